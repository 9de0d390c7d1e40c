/**
 * The MCP tool contract's snapshot: what `mcp-contract.json` holds (a stable, normalized copy of
 * `tools/list`), how it is written and read back, and its types.
 */
import { z } from "zod";
import { McpGateError, McpGateErrorCode } from "./errors.js";

/** The format version of `mcp-contract.json`. */
export const CONTRACT_FORMAT_VERSION = 1;
/** Where the snapshot lives unless configured otherwise, relative to the repository root. */
export const DEFAULT_CONTRACT_FILE = "mcp-contract.json";
/** The command that rewrites the snapshot; named in every message that asks for it. */
export const UPDATE_CONTRACT_COMMAND = "mcp-pipeline contract --update";

/** A JSON Schema object as the MCP SDK produces it from zod (no `$ref`). */
export type JsonSchema = { [key: string]: unknown };

/** What `snapshotFromTools` reads from each entry of a `tools/list` result (the SDK's `Tool` fits). */
export interface ToolDescription {
  name: string;
  title?: string | undefined;
  description?: string | undefined;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema | undefined;
  annotations?: { [key: string]: unknown } | undefined;
}

/** One tool in the committed snapshot. */
export interface ContractTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
  annotations?: { [key: string]: unknown };
}

/** The content of `mcp-contract.json`. */
export interface ContractSnapshot {
  version: typeof CONTRACT_FORMAT_VERSION;
  tools: ContractTool[];
}

export type ChangeKind = "breaking" | "compatible";

/** One difference between two contracts. */
export interface ContractChange {
  kind: ChangeKind;
  /** The tool the change belongs to (for a rename, the old name). */
  tool: string;
  /** Where: `create_task`, `create_task.arguments.title`, `get_task.output.task.status`. */
  path: string;
  /** Short stable code, e.g. `argument-required`; see the table at the top of this module. */
  change: string;
  /** One sentence a person reads. */
  message: string;
}

// Keywords whose value is a schema, a list of schemas or a map of schemas; everything else in a
// schema is data (enum values, defaults, examples) whose array order must be kept.
export const SCHEMA_KEYWORDS = new Set(["items", "additionalProperties", "not", "contains"]);
export const SCHEMA_LIST_KEYWORDS = new Set(["anyOf", "oneOf", "allOf", "prefixItems"]);
export const SCHEMA_MAP_KEYWORDS = new Set([
  "properties",
  "patternProperties",
  "$defs",
  "definitions",
]);
// Keywords with set semantics, sorted so that reordering them is no change.
const SET_KEYWORDS = new Set(["required", "type"]);

/**
 * Normalizes a `tools/list` result into the committed snapshot format: tools sorted by name,
 * only the contract fields kept (name, title, description, inputSchema, outputSchema,
 * annotations), object keys sorted, `required` and `type` lists sorted, and the root `$schema`
 * dropped (it names the SDK's JSON Schema dialect, not the contract). The same server always
 * gives the same snapshot, so `serializeSnapshot` of it is byte-identical run to run.
 */
export function snapshotFromTools(tools: readonly ToolDescription[]): ContractSnapshot {
  const sorted = [...tools].sort((a, b) => compareStrings(a.name, b.name));
  return {
    version: CONTRACT_FORMAT_VERSION,
    tools: sorted.map((tool) => ({
      name: tool.name,
      ...(tool.title !== undefined && { title: tool.title }),
      ...(tool.description !== undefined && { description: tool.description }),
      inputSchema: normalizeRootSchema(tool.inputSchema),
      ...(tool.outputSchema !== undefined && {
        outputSchema: normalizeRootSchema(tool.outputSchema),
      }),
      ...(tool.annotations !== undefined && {
        annotations: sortKeys(tool.annotations) as JsonSchema,
      }),
    })),
  };
}

/** The text of `mcp-contract.json`: two-space JSON with a final newline. */
export function serializeSnapshot(snapshot: ContractSnapshot): string {
  return `${JSON.stringify(snapshot, null, 2)}\n`;
}

const SnapshotFile = z.object({
  version: z.literal(CONTRACT_FORMAT_VERSION, {
    error: `must be ${CONTRACT_FORMAT_VERSION}, the only format this pipeline reads`,
  }),
  tools: z.array(
    z.object({
      name: z.string().min(1, "must be a tool name"),
      title: z.string().optional(),
      description: z.string().optional(),
      inputSchema: z.record(z.string(), z.unknown(), { error: "must be a JSON Schema object" }),
      outputSchema: z
        .record(z.string(), z.unknown(), { error: "must be a JSON Schema object" })
        .optional(),
      annotations: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
});

/**
 * Parses the text of `mcp-contract.json`. Throws McpGateError (`CONTRACT_FILE_INVALID`) naming
 * the first bad field when the text is not JSON or not a version-1 snapshot.
 */
export function parseSnapshot(text: string, source = DEFAULT_CONTRACT_FILE): ContractSnapshot {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new McpGateError(
      McpGateErrorCode.CONTRACT_FILE_INVALID,
      `${source} is not valid JSON; regenerate it with ${UPDATE_CONTRACT_COMMAND}`,
      { cause: error },
    );
  }
  const parsed = SnapshotFile.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.length ? issue.path.join(".") : "(root)";
    throw new McpGateError(
      McpGateErrorCode.CONTRACT_FILE_INVALID,
      `${source}: ${field}: ${issue?.message ?? "invalid"}; regenerate it with ${UPDATE_CONTRACT_COMMAND}`,
      { cause: parsed.error },
    );
  }
  // Normalizing again makes a hand-edited file compare the same way a generated one does.
  return snapshotFromTools(parsed.data.tools as ToolDescription[]);
}

// Normalization

export function normalizeRootSchema(schema: JsonSchema): JsonSchema {
  const { $schema: _dialect, ...rest } = schema;
  return normalizeSchema(rest) as JsonSchema;
}

function normalizeSchema(schema: unknown): unknown {
  if (!isObject(schema)) return schema;
  const out: JsonSchema = {};
  for (const key of Object.keys(schema).sort(compareStrings)) {
    const value = schema[key];
    if (SCHEMA_KEYWORDS.has(key)) {
      out[key] = Array.isArray(value) ? value.map(normalizeSchema) : normalizeSchema(value);
    } else if (SCHEMA_LIST_KEYWORDS.has(key) && Array.isArray(value)) {
      out[key] = value.map(normalizeSchema);
    } else if (SCHEMA_MAP_KEYWORDS.has(key) && isObject(value)) {
      const map: JsonSchema = {};
      for (const name of Object.keys(value).sort(compareStrings)) {
        map[name] = normalizeSchema(value[name]);
      }
      out[key] = map;
    } else if (SET_KEYWORDS.has(key) && Array.isArray(value)) {
      out[key] = [...value].sort((a, b) => compareStrings(String(a), String(b)));
    } else {
      out[key] = sortKeys(value);
    }
  }
  return out;
}

export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  const out: JsonSchema = {};
  for (const key of Object.keys(value).sort(compareStrings)) out[key] = sortKeys(value[key]);
  return out;
}

// Locale-independent, so the snapshot and the report order are the same on every machine.
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isObject(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
