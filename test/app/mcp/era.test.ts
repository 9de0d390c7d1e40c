import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  isLegacyRequest,
  PROTOCOL_VERSION_META_KEY,
} from "@modelcontextprotocol/server";
import { describe, expect, it } from "vitest";
import { isLegacyMcpRequest, plainShapeEra } from "../../../app/mcp/era.js";

const envelope = (version: unknown = "2026-07-28") => ({
  [PROTOCOL_VERSION_META_KEY]: version,
  [CLIENT_CAPABILITIES_META_KEY]: {},
  [CLIENT_INFO_META_KEY]: { name: "era-test", version: "1.0.0" },
});

// What the two SDK clients send, then every odd shape the fast path must leave to the SDK.
const BODIES: Record<string, unknown> = {
  "2026 tools/call": {
    jsonrpc: "2.0",
    id: 7,
    method: "tools/call",
    params: { name: "create_task", arguments: { title: "x" }, _meta: envelope() },
  },
  "2026 server/discover": {
    jsonrpc: "2.0",
    id: "a",
    method: "server/discover",
    params: { _meta: envelope() },
  },
  "2026 notification": {
    jsonrpc: "2.0",
    method: "notifications/cancelled",
    params: { requestId: 1, _meta: envelope() },
  },
  "claim naming 2025-11-25": {
    jsonrpc: "2.0",
    id: 1,
    method: "tools/list",
    params: { _meta: envelope("2025-11-25") },
  },
  "claim that is not a string": {
    jsonrpc: "2.0",
    id: 1,
    method: "tools/list",
    params: { _meta: envelope(20260728) },
  },
  "envelope missing capabilities": {
    jsonrpc: "2.0",
    id: 1,
    method: "tools/list",
    params: { _meta: { [PROTOCOL_VERSION_META_KEY]: "2026-07-28" } },
  },
  "2025 tools/call": {
    jsonrpc: "2.0",
    id: 3,
    method: "tools/call",
    params: { name: "create_task", arguments: { title: "x" } },
  },
  "2025 tools/list without params": { jsonrpc: "2.0", id: 4, method: "tools/list" },
  "2025 notifications/initialized": { jsonrpc: "2.0", method: "notifications/initialized" },
  "2025 call with a progress token": {
    jsonrpc: "2.0",
    id: 5,
    method: "tools/call",
    params: { name: "list_tasks", _meta: { progressToken: 1 } },
  },
  "2025 call with a malformed progress token": {
    jsonrpc: "2.0",
    id: 5,
    method: "tools/call",
    params: { name: "list_tasks", _meta: { progressToken: {} } },
  },
  initialize: {
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: "x", version: "1" },
    },
  },
  "initialize with a claim": {
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: { _meta: envelope() },
  },
  "extra key": { jsonrpc: "2.0", id: 1, method: "tools/list", extra: true },
  "fractional id": { jsonrpc: "2.0", id: 1.5, method: "tools/list" },
  "object id": { jsonrpc: "2.0", id: {}, method: "tools/list" },
  "wrong jsonrpc": { jsonrpc: "1.0", id: 1, method: "tools/list" },
  "params not an object": { jsonrpc: "2.0", id: 1, method: "tools/list", params: [1] },
  "_meta not an object": { jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: 1 } },
  "result response": { jsonrpc: "2.0", id: 1, result: {} },
  "error response": { jsonrpc: "2.0", id: 1, error: { code: 1, message: "x" } },
  batch: [{ jsonrpc: "2.0", id: 1, method: "tools/list" }],
  "empty batch": [],
  "a string": "tools/list",
  null: null,
};

const HEADERS: Record<string, string | undefined> = {
  none: undefined,
  "2025-11-25": "2025-11-25",
  "2026-07-28": "2026-07-28",
  " 2026-07-28 with spaces ": " 2026-07-28 ",
  empty: "",
  "a later revision": "2027-01-01",
};

function request(header: string | undefined): Request {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  };
  if (header !== undefined) headers["mcp-protocol-version"] = header;
  return new Request("http://mcp.invalid/mcp", { method: "POST", headers });
}

describe("plainShapeEra", () => {
  it("never disagrees with the SDK's isLegacyRequest, for any body and protocol version header", async () => {
    const disagreements: string[] = [];
    for (const [bodyName, body] of Object.entries(BODIES)) {
      for (const [headerName, header] of Object.entries(HEADERS)) {
        const quick = plainShapeEra(header ?? null, body);
        if (quick === undefined) continue;
        const sdk = await isLegacyRequest(request(header), body);
        if (quick !== sdk) disagreements.push(`${bodyName} / ${headerName}: ${quick} vs ${sdk}`);
      }
    }
    expect(disagreements).toEqual([]);
  });

  it("decides what the SDK clients send on its own, and leaves the odd shapes to the SDK", () => {
    expect(plainShapeEra("2026-07-28", BODIES["2026 tools/call"])).toBe(false);
    expect(plainShapeEra("2026-07-28", BODIES["2026 server/discover"])).toBe(false);
    expect(plainShapeEra("2025-11-25", BODIES["2025 tools/call"])).toBe(true);
    expect(plainShapeEra(null, BODIES["2025 notifications/initialized"])).toBe(true);
    for (const odd of ["initialize", "batch", "result response", "fractional id", "extra key"]) {
      expect(plainShapeEra(null, BODIES[odd]), odd).toBeUndefined();
    }
    expect(plainShapeEra("2026-07-28", BODIES["2025 tools/call"])).toBeUndefined();
  });

  it("routes every body and header the way the SDK does once the odd shapes go to it", async () => {
    for (const body of Object.values(BODIES)) {
      for (const header of Object.values(HEADERS)) {
        expect(await isLegacyMcpRequest(request(header), body)).toBe(
          await isLegacyRequest(request(header), body),
        );
      }
    }
  });
});
