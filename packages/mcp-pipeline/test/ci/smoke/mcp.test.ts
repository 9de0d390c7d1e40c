import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { type McpSmoke, mcpSmoke, RUN_ID_PLACEHOLDER } from "../../../src/ci/smoke/mcp.js";

// The compose smoke's MCP client against a real MCP server over Streamable HTTP on loopback
// (stateless: a server and transport per request, as small servers do).
function mcpServer(): McpServer {
  const server = new McpServer({ name: "smoke-target", version: "1.2.3" });
  server.registerTool(
    "add_note",
    { description: "Adds a note.", inputSchema: { text: z.string() } },
    async ({ text }) => {
      return { content: [{ type: "text", text: `added ${text}` }] };
    },
  );
  server.registerTool("broken", { description: "Always reports an error." }, async () => ({
    content: [{ type: "text", text: "the database is down" }],
    isError: true,
  }));
  return server;
}

let http: Server;
let url: URL;
beforeAll(async () => {
  http = createServer(async (req, res) => {
    const server = mcpServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((done) => http.listen(0, "127.0.0.1", done));
  url = new URL(`http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`);
});
afterAll(() => new Promise<void>((done) => http.close(() => done())));

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
            expect: "added smoke r42",
          },
        ],
      }),
      "r42",
    );
    expect(notes).toEqual([
      "initialize: smoke-target 1.2.3",
      "tools/list: 2 tools, every expected one",
      'add_note: ok, returned "added smoke r42"',
    ]);
  });

  it("fails when an expected tool is missing, naming it and what the server has", async () => {
    await expect(
      mcpSmoke(url, smoke({ expectTools: ["add_note", "list_notes"] }), "r"),
    ).rejects.toThrow("tools/list lacks list_notes (has add_note, broken)");
  });

  it("fails on a tool call that reports an error, with the server's words", async () => {
    await expect(
      mcpSmoke(url, smoke({ calls: [{ tool: "broken", arguments: {} }] }), "r"),
    ).rejects.toThrow(/^broken reported an error: .*the database is down/);
  });

  it("fails when a call does not return what it should", async () => {
    await expect(
      mcpSmoke(
        url,
        smoke({ calls: [{ tool: "add_note", arguments: { text: "x" }, expect: "added y" }] }),
        "r",
      ),
    ).rejects.toThrow('add_note did not return "added y"');
  });
});
