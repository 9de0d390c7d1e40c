import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer as LegacyMcpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { createMcpHandler, McpServer } from "@modelcontextprotocol/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { MCP_REVISIONS } from "../../../src/ci/config/schema.js";
import { type McpSmoke, mcpSmoke, RUN_ID_PLACEHOLDER } from "../../../src/ci/smoke/mcp.js";

// The compose smoke's MCP client against real MCP servers over Streamable HTTP on loopback: one on
// the SDK's v2 line serving 2026-07-28 and the 2025 era from one endpoint, and one on the v1 line,
// which speaks only the 2025 era (stateless: a server and transport per request, as small servers
// do).
function mcpServer(): McpServer {
  const server = new McpServer({ name: "smoke-target", version: "1.2.3" });
  server.registerTool(
    "add_note",
    { description: "Adds a note.", inputSchema: z.object({ text: z.string() }) },
    async ({ text }) => ({ content: [{ type: "text", text: `added ${text}` }] }),
  );
  server.registerTool("broken", { description: "Always reports an error." }, async () => ({
    content: [{ type: "text", text: "the database is down" }],
    isError: true,
  }));
  return server;
}

function legacyMcpServer(): LegacyMcpServer {
  const server = new LegacyMcpServer({ name: "old", version: "0.9.0" });
  server.registerTool(
    "add_note",
    { description: "Adds a note.", inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: "text", text: `added ${text}` }] }),
  );
  return server;
}

const servers: Server[] = [];
async function listen(server: Server): Promise<URL> {
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
}

let url: URL;
let legacyOnlyUrl: URL;
beforeAll(async () => {
  const handler = createMcpHandler(() => mcpServer(), { legacy: "stateless" });
  url = await listen(
    createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === "string") headers.set(name, value);
      }
      const response = await handler.fetch(
        new Request(`http://127.0.0.1${req.url}`, {
          method: req.method ?? "POST",
          headers,
          ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
        }),
      );
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    }),
  );
  legacyOnlyUrl = await listen(
    createServer(async (req, res) => {
      const server = legacyMcpServer();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on("close", () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res);
    }),
  );
});
afterAll(() => Promise.all(servers.map((s) => new Promise<void>((done) => s.close(() => done())))));

const smoke = (over: Partial<McpSmoke>): McpSmoke => ({ expectTools: [], calls: [], ...over });

describe("mcpSmoke", () => {
  it("lists the tools, makes each call with the run's id, and checks what it returns", async () => {
    const notes = await mcpSmoke(
      url,
      smoke({
        expectTools: ["add_note", "broken"],
        calls: [
          {
            tool: "add_note",
            arguments: { text: `smoke ${RUN_ID_PLACEHOLDER}` },
            expect: `added smoke ${RUN_ID_PLACEHOLDER}`,
          },
        ],
      }),
      "r42",
      MCP_REVISIONS,
    );
    expect(notes).toEqual([
      "2026-07-28: connected to smoke-target 1.2.3",
      "2026-07-28: tools/list: 2 tools, every expected one",
      '2026-07-28: add_note: ok, returned "added smoke r42-2026-07-28"',
      "2025-11-25: connected to smoke-target 1.2.3",
      "2025-11-25: tools/list: 2 tools, every expected one",
      '2025-11-25: add_note: ok, returned "added smoke r42-2025-11-25"',
    ]);
  });

  it("fails, naming the revision, against a server that does not speak a claimed one", async () => {
    const attempt = mcpSmoke(
      legacyOnlyUrl,
      smoke({ expectTools: ["add_note"] }),
      "r",
      MCP_REVISIONS,
    );
    await expect(attempt).rejects.toThrow(/does not speak MCP revision 2026-07-28/);
    // Control: claiming only the revision it speaks passes.
    expect(
      await mcpSmoke(legacyOnlyUrl, smoke({ expectTools: ["add_note"] }), "r", ["2025-11-25"]),
    ).toContain("2025-11-25: connected to old 0.9.0");
  });

  it("fails when an expected tool is missing, naming it and what the server has", async () => {
    await expect(
      mcpSmoke(url, smoke({ expectTools: ["add_note", "list_notes"] }), "r", MCP_REVISIONS),
    ).rejects.toThrow(
      "at MCP revision 2026-07-28: tools/list lacks list_notes (has add_note, broken)",
    );
  });

  it("fails on a tool call that reports an error, with the server's words", async () => {
    await expect(
      mcpSmoke(url, smoke({ calls: [{ tool: "broken", arguments: {} }] }), "r", ["2025-11-25"]),
    ).rejects.toThrow(
      /^at MCP revision 2025-11-25: broken reported an error: .*the database is down/,
    );
  });

  it("names the revision of a failing call even when the run id, which holds it, is in the message", async () => {
    const attempt = mcpSmoke(
      url,
      smoke({
        calls: [{ tool: "add_note", arguments: { text: "x" }, expect: `y ${RUN_ID_PLACEHOLDER}` }],
      }),
      "r",
      MCP_REVISIONS,
    );
    await expect(attempt).rejects.toThrow(
      'at MCP revision 2026-07-28: add_note did not return "y r-2026-07-28"',
    );
  });

  it("fails when a call does not return what it should", async () => {
    await expect(
      mcpSmoke(
        url,
        smoke({ calls: [{ tool: "add_note", arguments: { text: "x" }, expect: "added y" }] }),
        "r",
        MCP_REVISIONS,
      ),
    ).rejects.toThrow('add_note did not return "added y"');
  });
});
