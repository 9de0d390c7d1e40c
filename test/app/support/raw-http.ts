import { request } from "node:http";
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  PROTOCOL_VERSION_META_KEY,
} from "@modelcontextprotocol/client";

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: () => unknown;
}

/** One HTTP request with full control of headers (fetch will not let a test forge Host). */
export function rawRequest(options: {
  port: number;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: options.port,
        method: options.method ?? "GET",
        path: options.path ?? "/",
        headers: options.headers,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: () => JSON.parse(body),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** A JSON-RPC `initialize` request body: how a 2025-era client opens. */
export const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: "2025-11-25",
    capabilities: {},
    clientInfo: { name: "raw-test", version: "1.0.0" },
  },
});

/** Headers a Streamable HTTP client sends with a POST. */
export function mcpHeaders(
  host: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    host,
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    ...extra,
  };
}

/**
 * A 2026-07-28 request: its body (with the per-request `_meta` envelope that revision requires)
 * and the headers that revision requires beside the usual ones (MCP-Protocol-Version,
 * Mcp-Method, and Mcp-Name for a call that names its target).
 */
export function modernRequest(
  method: string,
  params: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): { body: string; headers: Record<string, string> } {
  const name: Record<string, string> =
    typeof params.name === "string" ? { "mcp-name": params.name } : {};
  return {
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method,
      params: {
        ...params,
        _meta: {
          [PROTOCOL_VERSION_META_KEY]: "2026-07-28",
          [CLIENT_CAPABILITIES_META_KEY]: {},
          [CLIENT_INFO_META_KEY]: { name: "raw-test", version: "1.0.0" },
        },
      },
    }),
    headers: {
      "mcp-protocol-version": "2026-07-28",
      "mcp-method": method,
      ...name,
      ...headers,
    },
  };
}

/** A `server/discover` request: how a 2026-07-28 client opens. */
export const DISCOVER = modernRequest("server/discover");

/**
 * The opening request of each era, for checks that must hold for both: the body and the
 * headers it needs beside Host, Content-Type and Accept.
 */
export const OPENINGS = [
  { era: "2026-07-28", body: DISCOVER.body, headers: DISCOVER.headers },
  { era: "2025-11-25", body: INITIALIZE, headers: {} },
] as const;
