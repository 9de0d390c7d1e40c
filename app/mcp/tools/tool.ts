import type { CallToolResult, McpServer, ToolAnnotations } from "@modelcontextprotocol/server";
import type { z } from "zod";
import { AppError } from "../../shared/errors.js";
import type { InFlight } from "../../shared/in-flight.js";
import type { Logger } from "../../shared/logger.js";
import type { TaskBackend } from "../backend-client.js";
import { type PublishedSchema, publishSchema } from "./json-schema.js";

/** What a tool returns on success: data matching its output schema and a one-line summary. */
export interface ToolOutput<O> {
  structured: O;
  summary: string;
}

/** One MCP tool as written: its contract (name, schemas, hints) and what it does. */
export interface ToolSpec<I extends z.ZodObject, O extends z.ZodObject> {
  name: string;
  title: string;
  description: string;
  inputSchema: I;
  outputSchema: O;
  annotations: ToolAnnotations;
  run(backend: TaskBackend, args: z.output<I>): Promise<ToolOutput<z.output<O>>>;
}

/** One MCP tool ready to register: its spec with both schemas converted to JSON Schema once. */
export interface ToolDefinition<I extends z.ZodObject, O extends z.ZodObject>
  extends Omit<ToolSpec<I, O>, "inputSchema" | "outputSchema"> {
  inputSchema: PublishedSchema<I>;
  outputSchema: PublishedSchema<O>;
}

/**
 * Names a tool may have: what MCP 2026-07-28 allows, which also keeps a name safe to send
 * as the `Mcp-Name` header of a `tools/call`.
 */
export const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * Turns a tool's spec into a definition: checks its name and publishes its schemas (see
 * publishSchema), so no request pays for that.
 */
export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(
  spec: ToolSpec<I, O>,
): ToolDefinition<I, O> {
  if (!TOOL_NAME.test(spec.name)) {
    throw new Error(`Tool name "${spec.name}" is not a valid MCP tool name (${TOOL_NAME})`);
  }
  return {
    ...spec,
    inputSchema: publishSchema(spec.inputSchema),
    outputSchema: publishSchema(spec.outputSchema),
  };
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
  server.registerTool(
    tool.name,
    {
      title: tool.title,
      description: tool.description,
      inputSchema: tool.inputSchema,
      outputSchema: tool.outputSchema,
      annotations: { title: tool.title, ...tool.annotations },
    },
    async (args: z.output<I>): Promise<CallToolResult> => {
      try {
        const output = await (context.inFlight
          ? context.inFlight.track(() => run(args))
          : run(args));
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
    },
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
