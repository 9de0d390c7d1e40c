import type { IncomingMessage } from "node:http";
import { SERVER_INFO_META_KEY } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkHostAndOrigin,
  hostnameFromHostHeader,
  MAX_MCP_BODY_BYTES,
} from "../../../app/mcp/http.js";
import { LIST_CACHE_HINT } from "../../../app/mcp/server.js";
import { connectHttp, REVISIONS } from "../support/clients.js";
import {
  postRepeatedly,
  recordingLogger,
  sendUntilClosed,
  streamedBody,
} from "../support/oversized.js";
import { listeningPort, type Spawned, spawnTsx } from "../support/processes.js";
import {
  INITIALIZE,
  mcpHeaders,
  modernRequest,
  OPENINGS,
  rawRequest,
} from "../support/raw-http.js";
import {
  makeTempDir,
  type RunningBackend,
  type RunningMcp,
  startBackend,
  startMcp,
} from "../support/servers.js";

let dir: { path: string; remove: () => Promise<void> };
let backend: RunningBackend;
let open: RunningMcp;
let guarded: RunningMcp;
const MCP_TOKEN = "mcp-client-token-abcdef";

beforeAll(async () => {
  dir = await makeTempDir("todo-mcp-http-");
  backend = await startBackend(dir.path);
  open = await startMcp(backend.url);
  guarded = await startMcp(backend.url, { authToken: MCP_TOKEN });
});
afterAll(async () => {
  await open.close();
  await guarded.close();
  await backend.close();
  await dir.remove();
});

async function expectHealthy(port: number): Promise<void> {
  expect((await rawRequest({ port, path: "/health" })).status).toBe(200);
}

describe("request log lines", () => {
  it("logs each request with its status and time at debug, and none at info", async () => {
    const debug = recordingLogger("debug");
    const info = recordingLogger("info");
    const servers = [
      await startMcp(backend.url, { logger: debug.logger }),
      await startMcp(backend.url, { logger: info.logger }),
    ];
    try {
      for (const server of servers) {
        expect((await rawRequest({ port: server.port, path: "/health" })).status).toBe(200);
      }
      await expect
        .poll(() => debug.records().filter((record) => record.msg === "request"))
        .toEqual([
          expect.objectContaining({
            method: "GET",
            path: "/health",
            status: 200,
            ms: expect.any(Number),
          }),
        ]);
      expect(info.records().filter((record) => record.msg === "request")).toEqual([]);
    } finally {
      await Promise.all(servers.map((server) => server.close()));
    }
  });
});

describe("MCP HTTP endpoints", () => {
  it("answers /health without touching the backend and /ready when the backend answers", async () => {
    const health = await rawRequest({
      port: open.port,
      path: "/health",
      headers: { host: "anything" },
    });
    expect(health.status).toBe(200);
    expect(health.json()).toEqual({ status: "ok" });
    const ready = await rawRequest({ port: open.port, path: "/ready" });
    expect(ready.status).toBe(200);
    expect(ready.json()).toEqual({ status: "ready" });
  });

  it("accepts an initialize POST (2025-11-25) with an allowed Host and Origin, and answers in JSON", async () => {
    const response = await rawRequest({
      port: open.port,
      method: "POST",
      path: "/mcp",
      headers: mcpHeaders(`localhost:${open.port}`, { origin: `http://localhost:${open.port}` }),
      body: INITIALIZE,
    });
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^application\/json/);
    expect(response.headers["mcp-session-id"]).toBeUndefined();
    expect(response.json()).toMatchObject({
      result: { protocolVersion: "2025-11-25", serverInfo: { name: "todo-mcp" } },
    });
  });

  it("accepts a server/discover POST (2026-07-28) with an allowed Host and Origin, naming the revisions it serves, with a cache hint", async () => {
    const discover = modernRequest(
      "server/discover",
      {},
      { origin: `http://localhost:${open.port}` },
    );
    const response = await rawRequest({
      port: open.port,
      method: "POST",
      path: "/mcp",
      headers: mcpHeaders(`localhost:${open.port}`, discover.headers),
      body: discover.body,
    });
    expect(response.status).toBe(200);
    expect(response.headers["mcp-session-id"]).toBeUndefined();
    const { result } = response.json() as { result: Record<string, unknown> };
    expect(result).toMatchObject({
      supportedVersions: expect.arrayContaining(["2026-07-28"]),
      capabilities: { tools: { listChanged: false } },
      instructions: expect.stringContaining("list_tasks"),
      _meta: { [SERVER_INFO_META_KEY]: { name: "todo-mcp" } },
      ...LIST_CACHE_HINT,
    });
  });

  it.each(OPENINGS)(
    "answers 403 to a foreign Host header on a $era opening and stays healthy",
    async ({ body, headers }) => {
      for (const host of [
        "evil.example.com",
        "evil.example.com:3000",
        "localhost.evil.com",
        "a@localhost",
      ]) {
        const response = await rawRequest({
          port: open.port,
          method: "POST",
          path: "/mcp",
          headers: mcpHeaders(host, headers),
          body,
        });
        expect(response.status, host).toBe(403);
        expect(response.json()).toMatchObject({
          error: { message: "Forbidden: Host header not allowed" },
        });
      }
      await expectHealthy(open.port);
    },
  );

  it.each(OPENINGS)(
    "answers 403 to a foreign Origin on a $era opening even with a good Host",
    async ({ body, headers }) => {
      for (const origin of ["http://evil.example.com", "null", "not a url"]) {
        const response = await rawRequest({
          port: open.port,
          method: "POST",
          path: "/mcp",
          headers: mcpHeaders("localhost", { ...headers, origin }),
          body,
        });
        expect(response.status, origin).toBe(403);
        expect(response.json()).toMatchObject({
          error: { message: "Forbidden: Origin not allowed" },
        });
      }
      await expectHealthy(open.port);
    },
  );

  it("answers tools/list at 2026-07-28 with the cache hint, and at 2025-11-25 without one", async () => {
    const modern = modernRequest("tools/list");
    const listed = await rawRequest({
      port: open.port,
      method: "POST",
      path: "/mcp",
      headers: mcpHeaders("localhost", modern.headers),
      body: modern.body,
    });
    expect(listed.status).toBe(200);
    const result = (listed.json() as { result: { tools: unknown[] } }).result;
    expect(result.tools).toHaveLength(6);
    expect(result).toMatchObject(LIST_CACHE_HINT);

    const legacy = await rawRequest({
      port: open.port,
      method: "POST",
      path: "/mcp",
      headers: mcpHeaders("localhost", { "mcp-protocol-version": "2025-11-25" }),
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list", params: {} }),
    });
    expect(legacy.status).toBe(200);
    const legacyResult = (legacy.json() as { result: Record<string, unknown> }).result;
    expect(legacyResult.tools).toHaveLength(6);
    expect(legacyResult).not.toHaveProperty("ttlMs");
  });

  it("refuses a 2026-07-28 call whose Mcp-Method or Mcp-Name header disagrees with its body", async () => {
    const call = modernRequest("tools/call", { name: "list_tasks", arguments: {} });
    const wrongs: Record<string, string>[] = [
      { "mcp-method": "tools/list" },
      { "mcp-name": "delete_task" },
    ];
    for (const wrong of wrongs) {
      const response = await rawRequest({
        port: open.port,
        method: "POST",
        path: "/mcp",
        headers: mcpHeaders("localhost", { ...call.headers, ...wrong }),
        body: call.body,
      });
      expect(response.status, JSON.stringify(wrong)).toBe(400);
      expect(response.json()).toMatchObject({ error: { code: expect.any(Number) } });
    }
  });

  it("answers ping at 2025-11-25, and neither ping nor logging/setLevel at 2026-07-28, which removed them", async () => {
    for (const method of ["ping", "logging/setLevel"]) {
      const modern = modernRequest(method, method === "ping" ? {} : { level: "info" });
      const response = await rawRequest({
        port: open.port,
        method: "POST",
        path: "/mcp",
        headers: mcpHeaders("localhost", modern.headers),
        body: modern.body,
      });
      expect(response.status, method).toBe(404);
      expect(response.json(), method).toMatchObject({ error: { code: -32601 } });
    }
    const ping = await rawRequest({
      port: open.port,
      method: "POST",
      path: "/mcp",
      headers: mcpHeaders("localhost", { "mcp-protocol-version": "2025-11-25" }),
      body: JSON.stringify({ jsonrpc: "2.0", id: 3, method: "ping" }),
    });
    expect(ping.status).toBe(200);
    expect(ping.json()).toEqual({ jsonrpc: "2.0", id: 3, result: {} });
  });

  it("answers 413 to a body over the cap and stays healthy", async () => {
    const huge = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "create_task", arguments: { title: "x".repeat(MAX_MCP_BODY_BYTES) } },
    });
    const response = await rawRequest({
      port: open.port,
      method: "POST",
      path: "/mcp",
      headers: mcpHeaders("localhost"),
      body: huge,
    });
    expect(response.status).toBe(413);
    expect(response.json()).toMatchObject({
      error: {
        code: -32600,
        message: `Request body exceeds the limit of ${MAX_MCP_BODY_BYTES} bytes`,
      },
    });
    await expectHealthy(open.port);
    expect(backend.store.list()).toEqual([]);
  });

  it("answers a JSON-RPC parse error to a body that is not JSON", async () => {
    const response = await rawRequest({
      port: open.port,
      method: "POST",
      path: "/mcp",
      headers: mcpHeaders("localhost"),
      body: "{nope",
    });
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: -32700 } });
  });

  it("answers 405 to GET and DELETE on /mcp, since there are no sessions", async () => {
    for (const method of ["GET", "DELETE"]) {
      const response = await rawRequest({
        port: open.port,
        method,
        path: "/mcp",
        headers: { host: "localhost", accept: "text/event-stream" },
      });
      expect(response.status).toBe(405);
      expect(response.headers.allow).toBe("POST");
    }
  });

  it("serves concurrent clients of both revisions independently, each request on a fresh server", async () => {
    const clients = await Promise.all(
      [...REVISIONS, ...REVISIONS].map((revision) => connectHttp(open.url, revision)),
    );
    const results = await Promise.all(
      clients.map((client, i) =>
        client.callTool("create_task", { title: `client ${i} (${client.revision})` }),
      ),
    );
    expect(results.every((result) => !result.isError)).toBe(true);
    await Promise.all(clients.map((client) => client.close()));
  });
});

describe("bodies the MCP server refuses, with the server in its own process as in production", () => {
  // In one process the client reads the answer before the server's close reaches it, so
  // only a separate process shows whether a reset replaces the 413.
  const EIGHT_MIB = 8 * 1024 * 1024;
  const headers = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  };
  const body = new Uint8Array(EIGHT_MIB).fill(0x78);
  let server: Spawned;
  let url: string;

  beforeAll(async () => {
    server = spawnTsx("app/mcp/main.ts", [], {
      SERVICE_AUTH_TOKEN: "unused-backend-token",
      BACKEND_BASE_URL: backend.url,
      MCP_AUTH_TOKEN: MCP_TOKEN,
      MCP_HOST: "127.0.0.1",
      PORT: "0",
    });
    url = `http://127.0.0.1:${await listeningPort(server)}/mcp`;
  });
  afterAll(async () => {
    await server.stop("SIGKILL");
  });

  it("answers 413 to 20 of 20 fetch POSTs of an 8 MiB body sent one after another, none lost to a reset", async () => {
    const auth = { ...headers, authorization: `Bearer ${MCP_TOKEN}` };
    const outcomes = await postRepeatedly(url, 20, () => body, auth);
    expect(outcomes).toEqual(Array(20).fill("413 -32600"));
  });

  it("answers 413 to 20 of 20 fetch POSTs of an 8 MiB body sent all at once", async () => {
    const auth = { ...headers, authorization: `Bearer ${MCP_TOKEN}` };
    const outcomes = await postRepeatedly(url, 20, () => body, auth, "all at once");
    expect(outcomes).toEqual(Array(20).fill("413 -32600"));
  });

  it("answers 413 to 20 of 20 fetch POSTs of an 8 MiB body streamed without a Content-Length", async () => {
    const auth = { ...headers, authorization: `Bearer ${MCP_TOKEN}` };
    const outcomes = await postRepeatedly(url, 20, () => streamedBody(EIGHT_MIB), auth);
    expect(outcomes).toEqual(Array(20).fill("413 -32600"));
  });

  it("answers 401 to 20 of 20 fetch POSTs of an 8 MiB body without the token", async () => {
    const outcomes = await postRepeatedly(url, 20, () => body, headers);
    expect(outcomes).toEqual(Array(20).fill("401 -32001"));
  });
});

describe("bodies the MCP server refuses from clients that keep sending", () => {
  const CUT_MESSAGE = "cut off a client still sending a refused body";

  it("answers 413 to a client trickling a huge body, then closes its socket at the time bound", async () => {
    const { logger, records } = recordingLogger();
    const slow = await startMcp(backend.url, {
      logger,
      drainLimits: { maxBytes: 16 * 1024 * 1024, timeoutMs: 300 },
    });
    try {
      const head =
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
        `Content-Length: ${1024 ** 3}\r\n\r\n`;
      const outcome = await sendUntilClosed(slow.port, head, { trickleMs: 10 });
      expect(outcome.response).toMatch(/^HTTP\/1\.1 413 /);
      expect(outcome.response).toContain("Request body exceeds the limit");
      const cut = records().find((record) => record.msg === CUT_MESSAGE);
      expect(cut).toMatchObject({ status: 413, reason: "time", limitMs: 300 });
      // It kept reading while it waited: the server lingered rather than closing at once.
      expect(cut?.drainedBytes).toBeGreaterThan(0);
    } finally {
      await slow.close();
    }
  });

  it("answers 413 to a client sending a body past the drain bound, then cuts it off there", async () => {
    const { logger, records } = recordingLogger();
    const bounded = await startMcp(backend.url, {
      logger,
      drainLimits: { maxBytes: 1024 * 1024, timeoutMs: 60_000 },
    });
    try {
      const head =
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
        `Content-Length: ${1024 ** 3}\r\n\r\n`;
      const outcome = await sendUntilClosed(bounded.port, head, "fast");
      expect(outcome.response).toMatch(/^HTTP\/1\.1 413 /);
      expect(outcome.sentBytes).toBeGreaterThan(1024 * 1024);
      const cut = records().find((record) => record.msg === CUT_MESSAGE);
      expect(cut).toMatchObject({ status: 413, reason: "bytes", limitBytes: 1024 * 1024 });
      expect(cut?.drainedBytes).toBeGreaterThan(1024 * 1024);
    } finally {
      await bounded.close();
    }
  });
});

describe("MCP_ALLOWED_HOSTS", () => {
  it.each(OPENINGS)(
    "matches entries by hostname, ignoring case and any port written in them, for a $era opening",
    async ({ body, headers }) => {
      const custom = await startMcp(backend.url, { allowedHosts: ["Todo.Example.COM:8443"] });
      try {
        const allowed = await rawRequest({
          port: custom.port,
          method: "POST",
          path: "/mcp",
          headers: mcpHeaders("todo.example.com", {
            ...headers,
            origin: "https://todo.example.com",
          }),
          body,
        });
        expect(allowed.status).toBe(200);
        const refused = await rawRequest({
          port: custom.port,
          method: "POST",
          path: "/mcp",
          headers: mcpHeaders("localhost", headers),
          body,
        });
        expect(refused.status).toBe(403);
      } finally {
        await custom.close();
      }
    },
  );
});

describe("MCP bearer auth when MCP_AUTH_TOKEN is set", () => {
  it.each(OPENINGS)(
    "answers 401 to a $era opening without the token or with a wrong one",
    async ({ body, headers }) => {
      for (const authorization of [undefined, "Bearer wrong", `Basic ${MCP_TOKEN}`]) {
        const response = await rawRequest({
          port: guarded.port,
          method: "POST",
          path: "/mcp",
          headers: mcpHeaders("localhost", {
            ...headers,
            ...(authorization ? { authorization } : {}),
          }),
          body,
        });
        expect(response.status).toBe(401);
        expect(response.headers["www-authenticate"]).toBe("Bearer");
      }
      await expectHealthy(guarded.port);
    },
  );

  it.each(REVISIONS)("serves a %s client that sends the token", async (revision) => {
    const client = await connectHttp(guarded.url, revision, {
      authorization: `Bearer ${MCP_TOKEN}`,
    });
    const { tools } = await client.listTools();
    expect(tools).toHaveLength(6);
    await client.close();
  });
});

describe("hostnameFromHostHeader", () => {
  it("strips the port and lowercases", () => {
    expect(hostnameFromHostHeader("LocalHost:3000")).toBe("localhost");
    expect(hostnameFromHostHeader("mcp-server")).toBe("mcp-server");
    expect(hostnameFromHostHeader("[::1]:3000")).toBe("[::1]");
  });

  it("rejects headers that are not a plain host", () => {
    for (const header of [undefined, "", "a@b", "host/path", "host:port", "a b"]) {
      expect(hostnameFromHostHeader(header), String(header)).toBeUndefined();
    }
  });
});

describe("checkHostAndOrigin", () => {
  const allowed = new Set(["localhost", "mcp-server"]);
  const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

  it("allows a listed host with no Origin, as non-browser clients send", () => {
    expect(checkHostAndOrigin(req({ host: "mcp-server:3000" }), allowed)).toBeUndefined();
  });

  it("refuses an Origin on another host even when Host is allowed", () => {
    expect(
      checkHostAndOrigin(req({ host: "localhost", origin: "https://evil.example" }), allowed),
    ).toBe("Origin not allowed");
  });
});
