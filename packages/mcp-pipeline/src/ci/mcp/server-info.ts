import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Implementation, ServerCapabilities, Tool } from "@modelcontextprotocol/sdk/types.js";
import { McpGateError, McpGateErrorCode } from "./errors.js";

/** What both MCP gates need to know about a running server. */
export interface McpServerInfo {
  serverInfo: Implementation | undefined;
  capabilities: ServerCapabilities;
  tools: Tool[];
}

/** Every tool the connected server lists, following `nextCursor` across pages. */
export async function listAllTools(client: Client): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return tools;
}

/**
 * Initializes an MCP session with the Streamable HTTP endpoint at `url` (the full `/mcp` URL)
 * and reads its capabilities and its whole `tools/list`. Throws McpGateError
 * (`SERVER_UNREACHABLE`) with the cause when the server does not answer as an MCP server.
 */
export async function inspectMcpServer(
  url: URL,
  options: { headers?: Record<string, string> } = {},
): Promise<McpServerInfo> {
  const client = new Client({ name: "pipeline-mcp-gates", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(url, {
    requestInit: { headers: options.headers ?? {} },
  });
  try {
    await client.connect(transport);
    const tools = client.getServerCapabilities()?.tools ? await listAllTools(client) : [];
    return {
      serverInfo: client.getServerVersion(),
      capabilities: client.getServerCapabilities() ?? {},
      tools,
    };
  } catch (error) {
    throw new McpGateError(
      McpGateErrorCode.SERVER_UNREACHABLE,
      `cannot read initialize and tools/list from the MCP server at ${url.href}`,
      { cause: error },
    );
  } finally {
    await client.close();
  }
}
