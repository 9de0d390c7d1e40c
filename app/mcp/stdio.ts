import type { McpServer } from "@modelcontextprotocol/server";
import { serveStdio as serveStdioEntry } from "@modelcontextprotocol/server/stdio";
import type { InFlight } from "../shared/in-flight.js";
import type { Logger } from "../shared/logger.js";

/**
 * Serves MCP over stdin/stdout to one client of either protocol era: its opening message
 * decides whether the connection speaks 2026-07-28 or the 2025 handshake, and `makeServer`
 * builds the server for it. Returns a function that stops reading new messages, lets
 * running tool calls finish (up to `deadlineMs`), then closes the connection.
 */
export function serveStdio(
  makeServer: () => McpServer,
  inFlight: InFlight,
  logger: Logger,
): (deadlineMs: number) => Promise<boolean> {
  const connection = serveStdioEntry(() => makeServer(), {
    onerror: (error) => logger.warn("MCP message refused or failed", { error: error.message }),
  });
  return async (deadlineMs) => {
    process.stdin.pause();
    const finished = await inFlight.idle(deadlineMs);
    await connection.close();
    return finished;
  };
}
