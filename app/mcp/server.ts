import { type CacheHint, McpServer } from "@modelcontextprotocol/server";
import { VERSION } from "../shared/version.js";
import { tools } from "./tools/index.js";
import { registerTool, type ToolContext } from "./tools/tool.js";

export const SERVER_NAME = "todo-mcp";

const INSTRUCTIONS =
  "Manages the user's todo list. Use list_tasks to find tasks and their ids, create_task to " +
  "add one, update_task to change fields, mark_task_completed when a task is done, and " +
  "delete_task only when the user wants a task gone for good.";

/**
 * How long a 2026-07-28 client may reuse `tools/list` and `server/discover` without asking
 * again. Both change only when a new version is deployed, and the same for every caller
 * (nothing in them depends on the bearer token), so any cache may keep them; five minutes
 * bounds how long a client keeps an old tool list after a deploy.
 */
export const LIST_CACHE_HINT: Readonly<CacheHint> = { ttlMs: 5 * 60_000, cacheScope: "public" };

/**
 * Creates an MCP server with every todo tool registered. It knows nothing of transports or
 * protocol revisions: the HTTP front builds one per request and the stdio front one per
 * connection, for 2026-07-28 and 2025-era clients alike.
 */
export function createServer(context: ToolContext): McpServer {
  const server = new McpServer(
    { name: SERVER_NAME, version: VERSION },
    {
      // No list_changed: the tool list is fixed for the life of the process.
      capabilities: { tools: { listChanged: false } },
      instructions: INSTRUCTIONS,
      cacheHints: { "tools/list": LIST_CACHE_HINT, "server/discover": LIST_CACHE_HINT },
    },
  );
  for (const tool of tools) registerTool(server, tool, context);
  return server;
}
