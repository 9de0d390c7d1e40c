import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { bearerMatches } from "../shared/auth.js";
import { PayloadTooLargeError, ValidationError } from "../shared/errors.js";
import { type DrainLimits, readJsonBody, refuseBody, sendJson } from "../shared/http.js";
import type { Logger } from "../shared/logger.js";

/** Largest `/mcp` request body accepted. Tool arguments are bounded well below this. */
export const MAX_MCP_BODY_BYTES = 256 * 1024;
export const MCP_PATH = "/mcp";

export interface McpHttpOptions {
  /** Builds a fresh MCP server; called once per request (stateless mode). */
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

/**
 * Creates the HTTP front of the MCP server (not yet listening): Streamable HTTP at `/mcp`
 * in stateless mode, plus `GET /health` (liveness) and `GET /ready` (backend reachable).
 *
 * Stateless means each POST gets a new McpServer and transport, which the SDK requires when
 * no session id is issued; nothing is kept between requests, so any replica can answer.
 */
export function createMcpHttpServer(options: McpHttpOptions): Server {
  const allowed = new Set(
    options.allowedHosts.map((host) => hostnameFromHostHeader(host) ?? normalizeHostname(host)),
  );
  const server = createServer((req, res) => {
    logWhenDone(options.logger, req, res);
    route(options, allowed, req, res).catch((error: unknown) => {
      options.logger.error("request failed", { method: req.method, path: req.url, error });
      sendJson(res, 500, rpcError(-32603, "Internal server error"));
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  return server;
}

async function route(
  options: McpHttpOptions,
  allowed: ReadonlySet<string>,
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
    // No sessions, so there is no server-initiated stream to GET and nothing to DELETE.
    refuse(405, rpcError(-32000, "Method not allowed: this server is stateless; use POST"), {
      allow: "POST",
    });
    return;
  }
  await handleMcpPost(options, req, res, refuse);
}

async function handleMcpPost(
  options: McpHttpOptions,
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

  const server = options.makeServer();
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  res.on("close", () => {
    // Closing a per-request pair cannot fail in a way the client could still hear about.
    transport.close().catch(() => undefined);
    server.close().catch(() => undefined);
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
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
