import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { InFlight } from "../shared/in-flight.js";

/**
 * Serves one MCP server over stdin/stdout. Returns a function that stops reading new
 * messages, lets running tool calls answer (up to `deadlineMs`), then closes the server.
 */
export async function serveStdio(
  server: McpServer,
  inFlight: InFlight,
): Promise<(deadlineMs: number) => Promise<boolean>> {
  await server.connect(new StdioServerTransport());
  return async (deadlineMs) => {
    process.stdin.pause();
    const finished = await inFlight.idle(deadlineMs);
    await server.close();
    return finished;
  };
}
