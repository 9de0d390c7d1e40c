import {
  type CallToolResult,
  InMemoryTransport,
  type ListToolsResult,
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernHttpTransport,
  type Tool,
} from "@modelcontextprotocol/client";
import { StdioClientTransport as ModernStdioTransport } from "@modelcontextprotocol/client/stdio";
import { Client as LegacyClient } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport as LegacyStdioTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport as LegacyHttpTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { InMemoryTransport as LegacyInMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { serveStdio } from "@modelcontextprotocol/server/stdio";
import { createServer } from "../../../app/mcp/server.js";
import type { ToolContext } from "../../../app/mcp/tools/tool.js";

/** The protocol revisions the server serves, newest first. */
export const REVISIONS = ["2026-07-28", "2025-11-25"] as const;
export type Revision = (typeof REVISIONS)[number];

/**
 * A real MCP client of one revision, seen through what the tests need: the 2026-07-28 one is
 * the v2 SDK's client pinned to that revision, the 2025-11-25 one the v1 SDK's client (the
 * line that speaks only the 2025 handshake), so each era is met by a client built for it.
 */
export interface TestClient {
  readonly revision: Revision;
  /** The revision the client and server agreed on, where the transport reports it. */
  negotiated(): string | undefined;
  listTools(): Promise<ListToolsResult>;
  callTool(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
  /** The instructions the server gave, read from `server/discover` or `initialize`. */
  instructions(): string | undefined;
  /** Errors the client reported outside any call: messages it could not parse, say. */
  readonly protocolErrors: Error[];
  close(): Promise<void>;
}

function modern(client: ModernClient): TestClient {
  const protocolErrors: Error[] = [];
  client.onerror = (error) => protocolErrors.push(error);
  return {
    protocolErrors,
    revision: "2026-07-28",
    negotiated: () => client.getNegotiatedProtocolVersion(),
    listTools: () => client.listTools(),
    callTool: async (name, args) =>
      (await client.callTool({ name, arguments: args })) as CallToolResult,
    instructions: () => client.getInstructions(),
    close: () => client.close(),
  };
}

function legacy(client: LegacyClient, negotiated: () => string | undefined): TestClient {
  const protocolErrors: Error[] = [];
  client.onerror = (error) => protocolErrors.push(error);
  // The two SDK lines describe the same JSON with their own types.
  return {
    protocolErrors,
    revision: "2025-11-25",
    negotiated,
    listTools: async () => (await client.listTools()) as unknown as ListToolsResult,
    callTool: async (name, args) =>
      (await client.callTool({ name, arguments: args })) as unknown as CallToolResult,
    instructions: () => client.getInstructions(),
    close: () => client.close(),
  };
}

function modernClient(name: string): ModernClient {
  return new ModernClient(
    { name, version: "1.0.0" },
    { versionNegotiation: { mode: { pin: "2026-07-28" } } },
  );
}

/** Connects a client of `revision` over Streamable HTTP to `<mcpUrl>/mcp`. */
export async function connectHttp(
  mcpUrl: string,
  revision: Revision,
  headers: Record<string, string> = {},
): Promise<TestClient> {
  const url = new URL(`${mcpUrl}/mcp`);
  if (revision === "2026-07-28") {
    const client = modernClient("todo-test-client");
    await client.connect(new ModernHttpTransport(url, { requestInit: { headers } }));
    return modern(client);
  }
  const client = new LegacyClient({ name: "todo-test-client", version: "1.0.0" });
  const transport = new LegacyHttpTransport(url, { requestInit: { headers } });
  await client.connect(transport);
  return legacy(client, () => transport.protocolVersion);
}

/** Starts `command args` as an MCP server over stdio and connects a client of `revision`. */
export async function connectStdio(
  revision: Revision,
  params: { command: string; args: string[]; cwd: string; env: Record<string, string> },
  onStderr: (chunk: string) => void,
): Promise<TestClient> {
  if (revision === "2026-07-28") {
    const transport = new ModernStdioTransport({ ...params, stderr: "pipe" });
    transport.stderr?.on("data", (chunk: Buffer) => onStderr(chunk.toString()));
    const client = modernClient("stdio-test");
    await client.connect(transport);
    return modern(client);
  }
  const transport = new LegacyStdioTransport({ ...params, stderr: "pipe" });
  transport.stderr?.on("data", (chunk: Buffer) => onStderr(chunk.toString()));
  const client = new LegacyClient({ name: "stdio-test", version: "1.0.0" });
  await client.connect(transport);
  return legacy(client, () => undefined);
}

/**
 * Serves the server factory (createServer) to a client of `revision` over a linked in-memory
 * transport pair, through the SDK's own per-connection entry (the one stdio uses), so the
 * server is built and era-bound exactly as it is for a real connection.
 */
export async function connectInMemory(
  context: ToolContext,
  revision: Revision,
): Promise<TestClient> {
  if (revision === "2026-07-28") {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const connection = serveStdio(() => createServer(context), { transport: serverSide });
    const client = modernClient("in-memory-test");
    await client.connect(clientSide);
    const wrapped = modern(client);
    return { ...wrapped, close: () => wrapped.close().then(() => connection.close()) };
  }
  const [clientSide, serverSide] = LegacyInMemoryTransport.createLinkedPair();
  const connection = serveStdio(() => createServer(context), { transport: serverSide });
  const client = new LegacyClient({ name: "in-memory-test", version: "1.0.0" });
  await client.connect(clientSide);
  const wrapped = legacy(client, () => undefined);
  return { ...wrapped, close: () => wrapped.close().then(() => connection.close()) };
}

/** The tool named `name` in a `tools/list` result; throws if there is none. */
export function toolNamed(tools: readonly Tool[], name: string): Tool {
  const tool = tools.find((candidate) => candidate.name === name);
  if (!tool) throw new Error(`no tool ${name} in tools/list`);
  return tool;
}
