import type { McpServer, ToolCallback } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import type { z } from "zod";
import { AppError } from "../../shared/errors.js";
import type { InFlight } from "../../shared/in-flight.js";
import type { Logger } from "../../shared/logger.js";
import type { TaskBackend } from "../backend-client.js";

/** What a tool returns on success: data matching its output schema and a one-line summary. */
export interface ToolOutput<O> {
  structured: O;
  summary: string;
}

/** One MCP tool: its contract (name, schemas, hints) and what it does. */
export interface ToolDefinition<I extends z.ZodObject, O extends z.ZodObject> {
  name: string;
  title: string;
  description: string;
  inputSchema: I;
  outputSchema: O;
  annotations: ToolAnnotations;
  run(backend: TaskBackend, args: z.output<I>): Promise<ToolOutput<z.output<O>>>;
}

/** Identity helper that lets TypeScript infer a tool's schema types. */
export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(
  definition: ToolDefinition<I, O>,
): ToolDefinition<I, O> {
  return definition;
}

export interface ToolContext {
  backend: TaskBackend;
  logger: Logger;
  /** Counts running tool calls, so a shutdown can let them finish. */
  inFlight?: InFlight;
}

/**
 * Registers a tool on an MCP server. Failures become `isError` results carrying the
 * error's own message, so the model sees what went wrong and the server keeps running.
 */
export function registerTool<I extends z.ZodObject, O extends z.ZodObject>(
  server: McpServer,
  tool: ToolDefinition<I, O>,
  context: ToolContext,
): void {
  const run = (args: z.output<I>) => tool.run(context.backend, args);
  const handler = async (args: z.output<I>): Promise<CallToolResult> => {
    try {
      const output = await (context.inFlight ? context.inFlight.track(() => run(args)) : run(args));
      return {
        content: [
          { type: "text", text: output.summary },
          { type: "text", text: JSON.stringify(output.structured) },
        ],
        structuredContent: output.structured as Record<string, unknown>,
      };
    } catch (error) {
      return toolError(tool.name, error, context.logger);
    }
  };
  server.registerTool(
    tool.name,
    {
      title: tool.title,
      description: tool.description,
      inputSchema: tool.inputSchema,
      outputSchema: tool.outputSchema,
      annotations: { title: tool.title, ...tool.annotations },
    },
    // The SDK's callback type is conditional on the schema and stays unresolved for a generic I.
    handler as ToolCallback<I>,
  );
}

/** Maps any failure to a tool result a model (and the person behind it) can act on. */
export function toolError(toolName: string, error: unknown, logger: Logger): CallToolResult {
  if (error instanceof AppError) {
    logger.info("tool failed", { tool: toolName, code: error.code, error: error.message });
    return {
      content: [{ type: "text", text: `${toolName} failed: ${error.message}` }],
      isError: true,
    };
  }
  logger.error("tool crashed", { tool: toolName, error });
  return {
    content: [
      {
        type: "text",
        text: `${toolName} failed because of an unexpected error in the MCP server; its logs have the details.`,
      },
    ],
    isError: true,
  };
}
