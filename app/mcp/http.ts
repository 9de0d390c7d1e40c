import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  createMcpHandler,
  type McpServer,
  WebStandardStreamableHTTPServerTransport,
} from "@modelcontextprotocol/server";
import { bearerMatches } from "../shared/auth.js";
import { PayloadTooLargeError, ValidationError } from "../shared/errors.js";
import { type DrainLimits, readJsonBody, refuseBody, sendJson } from "../shared/http.js";
import type { Logger } from "../shared/logger.js";
import { isLegacyMcpRequest } from "./era.js";

/** Largest `/mcp` request body accepted. Tool arguments are bounded well below this. */
export const MAX_MCP_BODY_BYTES = 256 * 1024;
export const MCP_PATH = "/mcp";

export interface McpHttpOptions {
  /** Builds a fresh MCP server; called once per request, whatever the protocol revision. */
  makeServer: () => McpServer;
  /** Probe used by `/ready`; resolves when the backend answers. */
  checkBackend: () => Promise<void>;
  /** Hostnames (no port) accepted in the Host and Origin headers of `/mcp` requests. */
  allowedHosts: readonly string[];
  /** When set, `/mcp` requires `Authorization: Bearer <authToken>`. */
  authToken?: string | undefined;
  logger: Logger;
  maxBodyBytes?: number;
  /** Bounds for reading and discarding a refused body before closing; defaults suit production. */
  drainLimits?: DrainLimits;
}

/** Answers one `/mcp` POST whose body has already been read and parsed. */
type McpExchange = (request: Request, body: unknown) => Promise<Response>;

/**
 * Creates the HTTP front of the MCP server (not yet listening): Streamable HTTP at `/mcp`,
 * plus `GET /health` (liveness) and `GET /ready` (backend reachable).
 *
 * One endpoint serves both protocol eras, statelessly: a 2026-07-28 request (it carries its
 * protocol version in `_meta`) goes to the SDK's per-request handler, anything else to a
 * 2025-era stateless transport answering in JSON. Either way each request gets a fresh
 * McpServer and nothing is kept between requests, so any replica can answer. Host, Origin,
 * the bearer token and the body size are checked here first, for both eras alike.
 */
export function createMcpHttpServer(options: McpHttpOptions): Server {
  const allowed = new Set(
    options.allowedHosts.map((host) => hostnameFromHostHeader(host) ?? normalizeHostname(host)),
  );
  const exchange = createMcpExchange(options);
  // Timing every request costs a closure and a listener each; only a debug log reads it.
  const logRequests = options.logger.enabled("debug");
  const server = createServer((req, res) => {
    if (logRequests) logWhenDone(options.logger, req, res);
    route(options, allowed, exchange, req, res).catch((error: unknown) => {
      options.logger.error("request failed", { method: req.method, path: req.url, error });
      sendJson(res, 500, rpcError(-32603, "Internal server error"));
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  return server;
}

function createMcpExchange(options: McpHttpOptions): McpExchange {
  const onerror = (error: Error) =>
    options.logger.warn("MCP request refused or failed", { error: error.message });
  // Strict modern handler: the 2025-era leg below answers in JSON, as this server always has,
  // where the SDK's own fallback would answer in server-sent events.
  const modern = createMcpHandler(() => options.makeServer(), { legacy: "reject", onerror });
  const legacy = async (request: Request, body: unknown): Promise<Response> => {
    const server = options.makeServer();
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    try {
      return await transport.handleRequest(request, { parsedBody: body });
    } finally {
      // A JSON answer is complete once returned; closing a per-request pair cannot fail in a
      // way the client could still hear about.
      transport.close().catch(() => undefined);
      server.close().catch(() => undefined);
    }
  };
  return async (request, body) =>
    (await isLegacyMcpRequest(request, body))
      ? legacy(request, body)
      : modern.fetch(request, { parsedBody: body });
}

async function route(
  options: McpHttpOptions,
  allowed: ReadonlySet<string>,
  exchange: McpExchange,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = new URL(req.url ?? "/", "http://mcp.invalid").pathname;
  const method = req.method ?? "GET";
  const refuse = (status: number, body: unknown, headers?: Record<string, string>) =>
    refuseBody(req, res, status, body, {
      headers,
      drain: options.drainLimits,
      logger: options.logger,
    });

  if (path === "/health") {
    sendJson(res, 200, { status: "ok" });
    return;
  }
  if (path === "/ready") {
    try {
      await options.checkBackend();
      sendJson(res, 200, { status: "ready" });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      sendJson(res, 503, { status: "unavailable", reason });
    }
    return;
  }
  if (path !== MCP_PATH) {
    refuse(404, { error: { code: "NOT_FOUND", message: `No route ${path}` } });
    return;
  }

  const rejection = checkHostAndOrigin(req, allowed);
  if (rejection) {
    options.logger.warn("rejected request", { reason: rejection, host: req.headers.host });
    refuse(403, rpcError(-32000, `Forbidden: ${rejection}`));
    return;
  }
  if (options.authToken && !bearerMatches(req.headers.authorization, options.authToken)) {
    refuse(401, rpcError(-32001, "Unauthorized: missing or invalid bearer token"), {
      "www-authenticate": "Bearer",
    });
    return;
  }
  if (method !== "POST") {
    // No sessions in either era, so there is no stream to GET and nothing to DELETE.
    refuse(405, rpcError(-32000, "Method not allowed: this server is stateless; use POST"), {
      allow: "POST",
    });
    return;
  }
  await handleMcpPost(options, exchange, req, res, refuse);
}

async function handleMcpPost(
  options: McpHttpOptions,
  exchange: McpExchange,
  req: IncomingMessage,
  res: ServerResponse,
  refuse: (status: number, body: unknown) => void,
): Promise<void> {
  const limit = options.maxBodyBytes ?? MAX_MCP_BODY_BYTES;
  let body: unknown;
  try {
    body = await readJsonBody(req, limit);
  } catch (error) {
    if (error instanceof PayloadTooLargeError) {
      options.logger.warn("rejected oversized request", { limitBytes: limit });
      refuse(413, rpcError(-32600, error.message));
      return;
    }
    if (error instanceof ValidationError) {
      sendJson(res, 400, rpcError(-32700, "Parse error: body is not valid JSON"));
      return;
    }
    throw error;
  }
  if (body === undefined) {
    sendJson(res, 400, rpcError(-32700, "Parse error: the body is empty"));
    return;
  }
  // Lets the SDK end the exchange if the client goes away before the answer is written.
  const disconnected = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) disconnected.abort();
  });
  const response = await exchange(toWebRequest(req, disconnected.signal), body);
  await sendWebResponse(res, response);
}

// Headers that describe this hop or the body we have already read, not the MCP request.
const HOP_HEADERS = new Set([
  "host",
  "connection",
  "keep-alive",
  "content-length",
  "transfer-encoding",
  "upgrade",
]);

/** The web Request the SDK expects, without a body: the caller passes the parsed body along. */
function toWebRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (!HOP_HEADERS.has(name)) headers.append(name, raw[i + 1] as string);
  }
  // The Host header was checked against the allow-list; the URL only needs to be well formed.
  return new Request(`http://mcp.invalid${req.url ?? MCP_PATH}`, {
    method: req.method ?? "POST",
    headers,
    signal,
  });
}

async function sendWebResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  if (response.body === null) {
    res.writeHead(response.status, headers).end();
    return;
  }
  if (!headers["content-type"]?.startsWith("text/event-stream")) {
    const payload = Buffer.from(await response.arrayBuffer());
    res.writeHead(response.status, { ...headers, "content-length": String(payload.length) });
    res.end(payload);
    return;
  }
  res.writeHead(response.status, headers);
  // A client that goes away mid-stream ends the pipeline early; nothing is left to answer.
  await pipeline(Readable.fromWeb(response.body as never), res).catch(() => undefined);
}

/** Returns why the request must be refused, or undefined when Host and Origin are allowed. */
export function checkHostAndOrigin(
  req: IncomingMessage,
  allowed: ReadonlySet<string>,
): string | undefined {
  const host = hostnameFromHostHeader(req.headers.host);
  if (host === undefined || !allowed.has(host)) return "Host header not allowed";
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const originHost = hostnameFromOrigin(origin);
    if (originHost === undefined || !allowed.has(originHost)) return "Origin not allowed";
  }
  return undefined;
}

const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?$/i;

/** The hostname of a Host header (`localhost:3000` → `localhost`), or undefined if malformed. */
export function hostnameFromHostHeader(header: string | undefined): string | undefined {
  const match = HOST_HEADER.exec(header?.trim() ?? "");
  return match?.[1] ? normalizeHostname(match[1]) : undefined;
}

function hostnameFromOrigin(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    return url.hostname ? normalizeHostname(url.hostname) : undefined;
  } catch {
    return undefined;
  }
}

function normalizeHostname(host: string): string {
  const lower = host.toLowerCase().replace(/\.$/, "");
  return lower.includes(":") && !lower.startsWith("[") ? `[${lower}]` : lower;
}

function logWhenDone(logger: Logger, req: IncomingMessage, res: ServerResponse): void {
  const started = performance.now();
  res.once("close", () => {
    logger.debug("request", {
      method: req.method,
      path: req.url,
      status: res.statusCode,
      ms: Math.round((performance.now() - started) * 10) / 10,
    });
  });
}

function rpcError(code: number, message: string): unknown {
  return { jsonrpc: "2.0", error: { code, message }, id: null };
}
