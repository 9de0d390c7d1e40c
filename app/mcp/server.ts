import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { VERSION } from "../shared/version.js";
import { tools } from "./tools/index.js";
import { registerTool, type ToolContext } from "./tools/tool.js";

export const SERVER_NAME = "todo-mcp";

const INSTRUCTIONS =
  "Manages the user's todo list. Use list_tasks to find tasks and their ids, create_task to " +
  "add one, update_task to change fields, mark_task_completed when a task is done, and " +
  "delete_task only when the user wants a task gone for good.";

/**
 * Creates an MCP server with every todo tool registered. It knows nothing of transports:
 * connect it to stdio or to one Streamable HTTP request.
 */
export function createServer(context: ToolContext): McpServer {
  const server = new McpServer(
    { name: SERVER_NAME, version: VERSION },
    { capabilities: { tools: {} }, instructions: INSTRUCTIONS },
  );
  for (const tool of tools) registerTool(server, tool, context);
  return server;
}
