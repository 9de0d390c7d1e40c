import { isLegacyRequest, PROTOCOL_VERSION_META_KEY } from "@modelcontextprotocol/server";

/** The first revision of the stateless era; revisions are ISO dates, so they sort as strings. */
const FIRST_MODERN_REVISION = "2026-07-28";
const REQUEST_KEYS = new Set(["jsonrpc", "id", "method", "params"]);

/**
 * Whether a parsed `/mcp` POST belongs to the 2025-era (initialize handshake) leg rather than
 * to the 2026-07-28 one: the SDK's own rule (isLegacyRequest), answered without it for the
 * shapes real clients send. The SDK's check validates the whole per-request envelope, which
 * its 2026-07-28 handler does again; on the hot path that second pass is a noticeable share
 * of each request's CPU. Anything but the plain shapes goes to the SDK, so the two cannot
 * disagree (test/app/mcp/era.test.ts holds them to it).
 */
export async function isLegacyMcpRequest(request: Request, body: unknown): Promise<boolean> {
  return (
    plainShapeEra(request.headers.get("mcp-protocol-version"), body) ??
    (await isLegacyRequest(request, body))
  );
}

/**
 * The era of a plain JSON-RPC request or notification, or undefined when the body is anything
 * else (a batch, a response, a malformed message) and only the SDK's full rule can tell.
 *
 * - With a protocol version claim in `params._meta`, it is never the legacy leg (the SDK
 *   serves it, or refuses it, on the 2026-07-28 path), `initialize` aside.
 * - Without any `_meta`, and with no MCP-Protocol-Version header naming 2026-07-28 or later,
 *   it is the legacy leg.
 */
export function plainShapeEra(
  protocolVersionHeader: string | null,
  body: unknown,
): boolean | undefined {
  if (!isPlainObject(body)) return undefined;
  const { jsonrpc, id, method, params } = body;
  if (jsonrpc !== "2.0" || typeof method !== "string" || method === "initialize") return undefined;
  if (!Object.keys(body).every((key) => REQUEST_KEYS.has(key))) return undefined;
  if (!(id === undefined || typeof id === "string" || Number.isSafeInteger(id))) return undefined;
  if (params !== undefined && !isPlainObject(params)) return undefined;
  if (params === undefined || !("_meta" in params)) {
    const header = protocolVersionHeader?.trim();
    return header === undefined || header < FIRST_MODERN_REVISION ? true : undefined;
  }
  const meta = params._meta;
  return isPlainObject(meta) && PROTOCOL_VERSION_META_KEY in meta ? false : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
