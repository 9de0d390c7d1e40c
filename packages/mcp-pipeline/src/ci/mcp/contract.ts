/**
 * The MCP tool contract: a stable snapshot of `tools/list`, a diff between two snapshots that
 * classifies every difference as breaking or compatible, and the `mcp-contract` gate on top.
 *
 * Classification follows who sends what. Arguments are sent by clients, so anything that makes
 * the server accept less is breaking; outputs are sent by the server, so anything that lets it
 * return something a client has not seen is breaking.
 *
 * | change | kind | example |
 * | --- | --- | --- |
 * | `tool-removed` | breaking | `delete_task` is gone |
 * | `tool-renamed` | breaking | `delete_task` → `remove_task`, same argument shape |
 * | `tool-added` | compatible | `archive_task` appears |
 * | `argument-removed` | breaking | `create_task.arguments.due_date` is gone |
 * | `argument-added-required` | breaking | new required `create_task.arguments.owner` |
 * | `argument-required` | breaking | optional `create_task.arguments.due_date` becomes required |
 * | `argument-added` | compatible | new optional `create_task.arguments.tags` |
 * | `argument-optional` | compatible | required `title` becomes optional |
 * | `type-narrowed` | breaking | `string \| null` → `string`; `number` → `integer` |
 * | `type-changed` | breaking | `string` → `number` |
 * | `type-widened` | compatible | `string` → `string \| null` |
 * | `enum-value-removed` | breaking | `priority` no longer accepts `"low"` |
 * | `enum-value-added` | compatible | `priority` also accepts `"urgent"` |
 * | `constraint-narrowed` | breaking | `maxLength` 200 → 100, a new `pattern`, `format`, `enum` or `minimum`, `additionalProperties` closed |
 * | `constraint-changed` | breaking | `pattern` replaced by another (cannot be proven wider) |
 * | `constraint-widened` | compatible | `maxLength` 200 → 500, `pattern` dropped |
 * | `default-changed` | compatible | `list_tasks.arguments.status` default `all` → `pending` |
 * | `schema-changed` | breaking | a change inside `allOf`/`not` or overlapping `anyOf` branches, which this diff does not interpret |
 * | `output-schema-removed` / `-added` | breaking / compatible | the tool stops / starts declaring `outputSchema` |
 * | `output-field-removed` | breaking | `delete_task.output.deleted` is gone |
 * | `output-field-optional` | breaking | a required output field may now be missing |
 * | `output-field-added` / `-required` | compatible | a new output field; a field now always present |
 * | `output-type-widened` / `-changed` | breaking | `completed_at` `string` → `string \| null` |
 * | `output-type-narrowed` | compatible | `string \| null` → `string` |
 * | `output-enum-value-added` / `output-enum-removed` | breaking | `status` may now be `"archived"` |
 * | `output-enum-value-removed`, `output-constraint-changed` | compatible | `maxLength` of an output field |
 * | `output-schema-changed` | breaking | an output change this diff does not interpret |
 * | `hint-less-safe` | breaking | `readOnlyHint` true → false, `destructiveHint` false → true |
 * | `hint-safer` | compatible | `destructiveHint` true → false |
 * | `title-changed`, `description-changed` | compatible | any title or description, at any depth |
 *
 * Hints are compared with the MCP defaults filled in (`readOnlyHint` false, `destructiveHint`
 * true, `idempotentHint` false, `openWorldHint` true), and `destructiveHint`/`idempotentHint`
 * count as safe on a read-only tool, as the specification says they apply only when
 * `readOnlyHint` is false. All four hints are checked: a client that auto-approves read-only
 * tools or retries idempotent ones is hurt by any of them getting less safe.
 *
 * A rename is a removed tool and an added tool whose input schemas have the same shape
 * (descriptions and titles ignored), when that pairing is unambiguous; otherwise they are
 * reported as removed and added.
 */
import { isDeepStrictEqual } from "node:util";
import semver from "semver";
import { z } from "zod";
import type { CheckOutcome } from "../checks/check.js";
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

/** What the `mcp-contract` gate reports: the outcome plus the classified changes. */
export interface ContractCheck extends CheckOutcome {
  changes: ContractChange[];
  breaking: number;
  compatible: number;
  /** True when breaking changes passed because the release is a new major version. */
  acceptedAsMajor: boolean;
}

export interface EvaluateContractInput {
  /** The committed snapshot, or undefined when there is none. */
  snapshot: ContractSnapshot | undefined;
  /** The snapshot of the server under test (`snapshotFromTools` of its `tools/list`). */
  current: ContractSnapshot;
  /** The version being released (from the git tag or package.json), if this run releases one. */
  releaseVersion?: string | undefined;
  /** The version released before it; breaking changes pass only when the major goes up. */
  previousVersion?: string | undefined;
  /** Shown in messages; defaults to `mcp-contract.json`. */
  snapshotPath?: string | undefined;
}

// Keywords whose value is a schema, a list of schemas or a map of schemas; everything else in a
// schema is data (enum values, defaults, examples) whose array order must be kept.
const SCHEMA_KEYWORDS = new Set(["items", "additionalProperties", "not", "contains"]);
const SCHEMA_LIST_KEYWORDS = new Set(["anyOf", "oneOf", "allOf", "prefixItems"]);
const SCHEMA_MAP_KEYWORDS = new Set(["properties", "patternProperties", "$defs", "definitions"]);
// Keywords with set semantics, sorted so that reordering them is no change.
const SET_KEYWORDS = new Set(["required", "type"]);
const DOC_KEYWORDS = new Set(["description", "title", "examples", "$comment"]);

const JSON_TYPES = ["string", "number", "integer", "boolean", "null", "array", "object"] as const;
type JsonType = (typeof JSON_TYPES)[number];

const LOWER_BOUNDS = ["minLength", "minItems", "minimum", "exclusiveMinimum", "minProperties"];
const UPPER_BOUNDS = ["maxLength", "maxItems", "maximum", "exclusiveMaximum", "maxProperties"];
const EXACT_CONSTRAINTS = ["pattern", "format", "multipleOf"];

/** The MCP defaults for tool hints, and which value of each is the safe one. */
const HINTS = [
  { name: "readOnlyHint", absent: false, safe: true },
  { name: "destructiveHint", absent: true, safe: false },
  { name: "idempotentHint", absent: false, safe: true },
  { name: "openWorldHint", absent: true, safe: false },
] as const;

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

/**
 * Lists every difference from `before` (the committed contract) to `after` (the server now),
 * each classified as breaking or compatible. Breaking changes come first, then by tool and path.
 */
export function diffContracts(before: ContractSnapshot, after: ContractSnapshot): ContractChange[] {
  const changes: ContractChange[] = [];
  const beforeByName = new Map(before.tools.map((tool) => [tool.name, tool]));
  const afterByName = new Map(after.tools.map((tool) => [tool.name, tool]));
  const removed = before.tools.filter((tool) => !afterByName.has(tool.name));
  const added = after.tools.filter((tool) => !beforeByName.has(tool.name));

  const renames = pairRenames(removed, added);
  for (const [oldTool, newTool] of renames) {
    changes.push({
      kind: "breaking",
      tool: oldTool.name,
      path: oldTool.name,
      change: "tool-renamed",
      message: `tool ${oldTool.name} was renamed to ${newTool.name} (same arguments); clients calling ${oldTool.name} now get "tool not found"`,
    });
    changes.push(...diffTool(oldTool, newTool));
  }
  const renamedOld = new Set([...renames.keys()].map((tool) => tool.name));
  const renamedNew = new Set([...renames.values()].map((tool) => tool.name));
  for (const tool of removed) {
    if (renamedOld.has(tool.name)) continue;
    changes.push({
      kind: "breaking",
      tool: tool.name,
      path: tool.name,
      change: "tool-removed",
      message: `tool ${tool.name} was removed; clients calling it now get "tool not found"`,
    });
  }
  for (const tool of added) {
    if (renamedNew.has(tool.name)) continue;
    changes.push({
      kind: "compatible",
      tool: tool.name,
      path: tool.name,
      change: "tool-added",
      message: `tool ${tool.name} was added`,
    });
  }
  for (const tool of before.tools) {
    const now = afterByName.get(tool.name);
    if (now) changes.push(...diffTool(tool, now));
  }
  return sortChanges(dedupe(changes));
}

/**
 * The `mcp-contract` gate. No snapshot fails with the command that writes one. Breaking changes
 * fail unless `releaseVersion` is a new major relative to `previousVersion` (semver), in which
 * case they pass and are listed; compatible changes pass and are listed. Throws McpGateError
 * (`VERSION_INVALID`) when a given version is not semver.
 */
export function evaluateContract(input: EvaluateContractInput): ContractCheck {
  const file = input.snapshotPath ?? DEFAULT_CONTRACT_FILE;
  const toolCount = `${input.current.tools.length} tool${input.current.tools.length === 1 ? "" : "s"}`;
  if (input.snapshot === undefined) {
    return {
      status: "failed",
      summary: `no tool-contract snapshot: ${file} does not exist`,
      details: [
        `The server lists ${toolCount}; there is nothing to compare them with.`,
        `Write the snapshot from the running server with \`${UPDATE_CONTRACT_COMMAND}\` and commit ${file}.`,
      ],
      changes: [],
      breaking: 0,
      compatible: 0,
      acceptedAsMajor: false,
    };
  }
  const changes = diffContracts(input.snapshot, input.current);
  const breaking = changes.filter((change) => change.kind === "breaking");
  const compatible = changes.length - breaking.length;
  const major = newMajor(input.releaseVersion, input.previousVersion);
  const lines = renderContractLines(changes);
  const counts = `${breaking.length} breaking, ${compatible} compatible`;

  if (changes.length === 0) {
    return {
      status: "passed",
      summary: `tool contract unchanged: ${toolCount} match ${file}`,
      details: [],
      changes,
      breaking: 0,
      compatible: 0,
      acceptedAsMajor: false,
    };
  }
  if (breaking.length === 0) {
    return {
      status: "passed",
      summary: `tool contract: ${counts} change${changes.length === 1 ? "" : "s"} against ${file}`,
      details: [...lines, `Record them with \`${UPDATE_CONTRACT_COMMAND}\` and commit ${file}.`],
      changes,
      breaking: 0,
      compatible,
      acceptedAsMajor: false,
    };
  }
  if (major.isNew) {
    return {
      status: "passed",
      summary: `tool contract: ${counts} changes, accepted for major release ${major.text}`,
      details: [
        ...lines,
        `Breaking changes are allowed because ${major.text} is a new major version; list them in the release notes.`,
        `Record them with \`${UPDATE_CONTRACT_COMMAND}\` and commit ${file}.`,
      ],
      changes,
      breaking: breaking.length,
      compatible,
      acceptedAsMajor: true,
    };
  }
  return {
    status: "failed",
    summary: `tool contract: ${counts} changes against ${file}; breaking changes need a new major version`,
    details: [
      ...lines,
      `${major.text}. Clients that depend on these tools break silently.`,
      `Restore the contract, or release a new major version (mcp-pipeline release major). If the change is deliberate and reviewed, run \`${UPDATE_CONTRACT_COMMAND}\` and commit ${file}.`,
    ],
    changes,
    breaking: breaking.length,
    compatible,
    acceptedAsMajor: false,
  };
}

/** Renders changes as a Markdown table for `report.md` and release notes. */
export function renderContractMarkdown(changes: readonly ContractChange[]): string {
  if (changes.length === 0) return "No changes to the tool contract.\n";
  const rows = changes.map(
    (change) =>
      `| ${change.kind} | \`${cell(change.path)}\` | \`${change.change}\` | ${cell(change.message)} |`,
  );
  return ["| kind | where | change | what |", "| --- | --- | --- | --- |", ...rows, ""].join("\n");
}

/** Renders changes as terminal lines: `✗ breaking   create_task.arguments.x  code: message`. */
export function renderContractLines(changes: readonly ContractChange[]): string[] {
  return changes.map(
    (change) =>
      `${change.kind === "breaking" ? "✗ breaking  " : "✓ compatible"} ${change.path}  ${change.change}: ${change.message}`,
  );
}

function cell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function newMajor(
  release: string | undefined,
  previous: string | undefined,
): { isNew: boolean; text: string } {
  if (release === undefined) return { isNew: false, text: "This run releases no version" };
  const to = parseVersion(release, "releaseVersion");
  if (previous === undefined) {
    return { isNew: false, text: `Release ${to} has no previous version to compare with` };
  }
  const from = parseVersion(previous, "previousVersion");
  if (semver.major(to) > semver.major(from)) return { isNew: true, text: `${to} (from ${from})` };
  return { isNew: false, text: `Release ${to} is not a new major version after ${from}` };
}

function parseVersion(value: string, field: string): string {
  const version = semver.valid(semver.clean(value) ?? value);
  if (version === null) {
    throw new McpGateError(
      McpGateErrorCode.VERSION_INVALID,
      `${field} ${JSON.stringify(value)} is not a semver version (X.Y.Z)`,
    );
  }
  return version;
}

// ---------------------------------------------------------------------------------------------
// Normalization

function normalizeRootSchema(schema: JsonSchema): JsonSchema {
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

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  const out: JsonSchema = {};
  for (const key of Object.keys(value).sort(compareStrings)) out[key] = sortKeys(value[key]);
  return out;
}

/** The schema without documentation keywords, at every depth: what a rename must preserve. */
function shape(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(shape);
  if (!isObject(schema)) return schema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DOC_KEYWORDS.has(key)) continue;
    if (SCHEMA_MAP_KEYWORDS.has(key) && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, shape(sub)]));
    } else if (SCHEMA_KEYWORDS.has(key) || SCHEMA_LIST_KEYWORDS.has(key)) {
      out[key] = shape(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Tools

function pairRenames(
  removed: readonly ContractTool[],
  added: readonly ContractTool[],
): Map<ContractTool, ContractTool> {
  const pairs = new Map<ContractTool, ContractTool>();
  for (const oldTool of removed) {
    const oldShape = shape(oldTool.inputSchema);
    const candidates = added.filter((tool) => isDeepStrictEqual(shape(tool.inputSchema), oldShape));
    const [candidate] = candidates;
    if (candidate === undefined || candidates.length > 1) continue;
    // Two removed tools with the same shape could each be the new one: do not guess.
    const rivals = removed.filter((tool) =>
      isDeepStrictEqual(shape(tool.inputSchema), shape(candidate.inputSchema)),
    );
    if (rivals.length === 1) pairs.set(oldTool, candidate);
  }
  return pairs;
}

function diffTool(before: ContractTool, after: ContractTool): ContractChange[] {
  const ctx: Context = { tool: after.name, changes: [] };
  const at = after.name;
  if (before.title !== after.title) {
    report(
      ctx,
      "compatible",
      at,
      "title-changed",
      `title changed from ${quote(before.title)} to ${quote(after.title)}`,
    );
  }
  if (before.description !== after.description) {
    report(ctx, "compatible", at, "description-changed", "description changed");
  }
  compareSchema(before.inputSchema, after.inputSchema, `${at}.arguments`, "input", ctx);
  if (before.outputSchema && after.outputSchema) {
    compareSchema(before.outputSchema, after.outputSchema, `${at}.output`, "output", ctx);
  } else if (before.outputSchema) {
    report(
      ctx,
      "breaking",
      `${at}.output`,
      "output-schema-removed",
      "the tool no longer declares an output schema, so clients lose its structured result",
    );
  } else if (after.outputSchema) {
    report(
      ctx,
      "compatible",
      `${at}.output`,
      "output-schema-added",
      "the tool now declares an output schema",
    );
  }
  compareHints(before.annotations ?? {}, after.annotations ?? {}, at, ctx);
  return ctx.changes;
}

function compareHints(
  before: { [key: string]: unknown },
  after: { [key: string]: unknown },
  at: string,
  ctx: Context,
): void {
  if (before.title !== after.title) {
    report(
      ctx,
      "compatible",
      `${at}.annotations.title`,
      "title-changed",
      `annotation title changed from ${quote(before.title)} to ${quote(after.title)}`,
    );
  }
  const was = effectiveHints(before);
  const now = effectiveHints(after);
  for (const hint of HINTS) {
    const from = was[hint.name];
    const to = now[hint.name];
    if (from === to) continue;
    const path = `${at}.annotations.${hint.name}`;
    const text = `${hint.name} went from ${describeHint(before, hint.name, from)} to ${describeHint(after, hint.name, to)}`;
    if (to === hint.safe) report(ctx, "compatible", path, "hint-safer", `${text}: safer`);
    else
      report(
        ctx,
        "breaking",
        path,
        "hint-less-safe",
        `${text}: clients that trusted the old hint may now run it without asking`,
      );
  }
}

type HintName = (typeof HINTS)[number]["name"];

function effectiveHints(annotations: { [key: string]: unknown }): Record<HintName, boolean> {
  const declared = Object.fromEntries(
    HINTS.map(({ name, absent }) => {
      const value = annotations[name];
      return [name, typeof value === "boolean" ? value : absent];
    }),
  ) as Record<HintName, boolean>;
  if (declared.readOnlyHint) {
    // The specification makes these two meaningful only for tools that are not read-only.
    declared.destructiveHint = false;
    declared.idempotentHint = true;
  }
  return declared;
}

function describeHint(
  annotations: { [key: string]: unknown },
  name: string,
  value: boolean,
): string {
  if (typeof annotations[name] === "boolean") return String(value);
  if (name !== "readOnlyHint" && annotations.readOnlyHint === true)
    return `${value} (read-only tool)`;
  return `${value} (not declared: MCP default)`;
}

// ---------------------------------------------------------------------------------------------
// Schemas

type Direction = "input" | "output";

interface Context {
  tool: string;
  changes: ContractChange[];
}

function report(
  ctx: Context,
  kind: ChangeKind,
  path: string,
  change: string,
  message: string,
): void {
  ctx.changes.push({ kind, tool: ctx.tool, path, change, message });
}

function compareSchema(
  before: unknown,
  after: unknown,
  path: string,
  dir: Direction,
  ctx: Context,
): void {
  if (isDeepStrictEqual(before, after)) return;
  const b = isObject(before) ? before : {};
  const a = isObject(after) ? after : {};
  compareDocs(b, a, path, ctx);
  if (dir === "input" && !isDeepStrictEqual(b.default, a.default)) {
    report(
      ctx,
      "compatible",
      path,
      "default-changed",
      `default changed from ${json(b.default)} to ${json(a.default)}; callers that omit it get the new value`,
    );
  }
  const beforeTypes = typeBranches(b);
  const afterTypes = typeBranches(a);
  if (beforeTypes === undefined || afterTypes === undefined) {
    if (!isDeepStrictEqual(shape(b), shape(a))) {
      report(
        ctx,
        "breaking",
        path,
        dir === "input" ? "schema-changed" : "output-schema-changed",
        "the schema changed in a way this check does not interpret (allOf, not, or overlapping anyOf branches); review it by hand",
      );
    }
    return;
  }
  compareTypes(beforeTypes, afterTypes, path, dir, ctx);
  for (const [type, beforeBranch, afterBranch] of pairBranches(beforeTypes, afterTypes)) {
    compareBranch(beforeBranch, afterBranch, type, path, dir, ctx);
  }
}

function compareDocs(b: JsonSchema, a: JsonSchema, path: string, ctx: Context): void {
  if (b.title !== a.title) {
    report(
      ctx,
      "compatible",
      path,
      "title-changed",
      `title changed from ${quote(b.title)} to ${quote(a.title)}`,
    );
  }
  if (b.description !== a.description) {
    report(ctx, "compatible", path, "description-changed", "description changed");
  }
}

// Subschemas made from an anyOf/oneOf branch: their own title and description are compared
// separately from those of the schema that holds the union.
const unionBranches = new WeakSet<JsonSchema>();

/**
 * Splits a schema into one subschema per JSON type it accepts: `type: [a, b]` shares one node,
 * `anyOf`/`oneOf` branches (the shape zod gives nullable values) each bring theirs, merged with
 * the keywords beside them. Undefined when the schema is outside what this diff interprets.
 */
function typeBranches(schema: JsonSchema): Map<JsonType, JsonSchema> | undefined {
  if ("allOf" in schema || "not" in schema || "$ref" in schema) return undefined;
  const union = schema.anyOf ?? schema.oneOf;
  if (union !== undefined) {
    if (!Array.isArray(union) || ("anyOf" in schema && "oneOf" in schema)) return undefined;
    const { anyOf: _a, oneOf: _o, description: _d, title: _t, default: _f, ...base } = schema;
    const map = new Map<JsonType, JsonSchema>();
    for (const branch of union) {
      if (!isObject(branch) || "anyOf" in branch || "oneOf" in branch) return undefined;
      const merged = { ...base, ...branch };
      unionBranches.add(merged);
      const sub = typeBranches(merged);
      if (sub === undefined) return undefined;
      for (const [type, node] of sub) {
        if (map.has(type)) return undefined;
        map.set(type, node);
      }
    }
    return map;
  }
  return new Map(declaredTypes(schema).map((type) => [type, schema]));
}

function declaredTypes(schema: JsonSchema): JsonType[] {
  const { type } = schema;
  if (typeof type === "string") return isJsonType(type) ? [type] : [];
  if (Array.isArray(type)) return type.filter((t): t is JsonType => isJsonType(t));
  const values = enumValues(schema);
  if (values !== undefined) return [...new Set(values.map(jsonTypeOf))];
  if ("properties" in schema) return ["object"];
  if ("items" in schema) return ["array"];
  return [...JSON_TYPES];
}

function jsonTypeOf(value: unknown): JsonType {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "string") return "string";
  return "object";
}

function isJsonType(value: unknown): value is JsonType {
  return typeof value === "string" && (JSON_TYPES as readonly string[]).includes(value);
}

function accepts(types: ReadonlySet<JsonType>, type: JsonType): boolean {
  return types.has(type) || (type === "integer" && types.has("number"));
}

function compareTypes(
  beforeTypes: Map<JsonType, JsonSchema>,
  afterTypes: Map<JsonType, JsonSchema>,
  path: string,
  dir: Direction,
  ctx: Context,
): void {
  const b = new Set(beforeTypes.keys());
  const a = new Set(afterTypes.keys());
  const lost = [...b].filter((type) => !accepts(a, type));
  const gained = [...a].filter((type) => !accepts(b, type));
  if (lost.length === 0 && gained.length === 0) return;
  const overlap = [...b].some(
    (type) => accepts(a, type) || (type === "number" && a.has("integer")),
  );
  const from = describeTypes(b);
  const to = describeTypes(a);
  if (dir === "input") {
    if (lost.length > 0 && !overlap)
      report(
        ctx,
        "breaking",
        path,
        "type-changed",
        `type changed from ${from} to ${to}; values clients send today are rejected`,
      );
    else if (lost.length > 0)
      report(
        ctx,
        "breaking",
        path,
        "type-narrowed",
        `type narrowed from ${from} to ${to}; ${describeTypes(new Set(lost))} values are no longer accepted`,
      );
    else report(ctx, "compatible", path, "type-widened", `type widened from ${from} to ${to}`);
  } else {
    if (gained.length > 0 && !overlap)
      report(
        ctx,
        "breaking",
        path,
        "output-type-changed",
        `output type changed from ${from} to ${to}; clients reading it get a type they do not expect`,
      );
    else if (gained.length > 0)
      report(
        ctx,
        "breaking",
        path,
        "output-type-widened",
        `output type widened from ${from} to ${to}; clients may now receive ${describeTypes(new Set(gained))}`,
      );
    else
      report(
        ctx,
        "compatible",
        path,
        "output-type-narrowed",
        `output type narrowed from ${from} to ${to}`,
      );
  }
}

function describeTypes(types: ReadonlySet<JsonType>): string {
  if (types.size === JSON_TYPES.length) return "any";
  return JSON_TYPES.filter((type) => types.has(type)).join(" | ");
}

/** Pairs the subschemas of each type both sides accept; `number` pairs with `integer`. */
function pairBranches(
  beforeTypes: Map<JsonType, JsonSchema>,
  afterTypes: Map<JsonType, JsonSchema>,
): [JsonType, JsonSchema, JsonSchema][] {
  const pairs: [JsonType, JsonSchema, JsonSchema][] = [];
  for (const [type, beforeBranch] of beforeTypes) {
    const afterBranch =
      afterTypes.get(type) ??
      (type === "number" ? afterTypes.get("integer") : undefined) ??
      (type === "integer" ? afterTypes.get("number") : undefined);
    if (afterBranch !== undefined) pairs.push([type, beforeBranch, afterBranch]);
  }
  return pairs;
}

function compareBranch(
  b: JsonSchema,
  a: JsonSchema,
  type: JsonType,
  path: string,
  dir: Direction,
  ctx: Context,
): void {
  // A branch of a union documents one type; a plain schema's docs were compared as the node.
  if (unionBranches.has(b) && unionBranches.has(a)) compareDocs(b, a, path, ctx);
  compareEnums(b, a, type, path, dir, ctx);
  compareConstraints(b, a, path, dir, ctx);
  if (type === "object") compareProperties(b, a, path, dir, ctx);
  if (type === "array" && (isObject(b.items) || isObject(a.items))) {
    compareSchema(b.items ?? {}, a.items ?? {}, `${path}[]`, dir, ctx);
  }
}

function enumValues(schema: JsonSchema): unknown[] | undefined {
  if (Array.isArray(schema.enum)) return schema.enum;
  if ("const" in schema) return [schema.const];
  return undefined;
}

function compareEnums(
  b: JsonSchema,
  a: JsonSchema,
  type: JsonType,
  path: string,
  dir: Direction,
  ctx: Context,
): void {
  const ofType = (values: unknown[] | undefined) =>
    values?.filter((value) => {
      const t = jsonTypeOf(value);
      return t === type || (type === "number" && t === "integer");
    });
  const before = ofType(enumValues(b));
  const after = ofType(enumValues(a));
  if (before === undefined && after === undefined) return;
  if (before !== undefined && after !== undefined) {
    const removed = before.filter((value) => !after.some((v) => isDeepStrictEqual(v, value)));
    const added = after.filter((value) => !before.some((v) => isDeepStrictEqual(v, value)));
    for (const value of removed) {
      if (dir === "input")
        report(ctx, "breaking", path, "enum-value-removed", `no longer accepts ${json(value)}`);
      else
        report(
          ctx,
          "compatible",
          path,
          "output-enum-value-removed",
          `no longer returns ${json(value)}`,
        );
    }
    for (const value of added) {
      if (dir === "input")
        report(ctx, "compatible", path, "enum-value-added", `now also accepts ${json(value)}`);
      else
        report(
          ctx,
          "breaking",
          path,
          "output-enum-value-added",
          `may now return ${json(value)}, which clients have not seen`,
        );
    }
    return;
  }
  if (after !== undefined) {
    if (dir === "input")
      report(
        ctx,
        "breaking",
        path,
        "constraint-narrowed",
        `now accepts only ${after.map(json).join(", ")}`,
      );
    else
      report(
        ctx,
        "compatible",
        path,
        "output-constraint-changed",
        `now returns only ${after.map(json).join(", ")}`,
      );
  } else if (dir === "input") {
    report(
      ctx,
      "compatible",
      path,
      "constraint-widened",
      `no longer limited to ${before?.map(json).join(", ")}`,
    );
  } else {
    report(
      ctx,
      "breaking",
      path,
      "output-enum-removed",
      `was one of ${before?.map(json).join(", ")}; may now be any ${type}`,
    );
  }
}

function compareConstraints(
  b: JsonSchema,
  a: JsonSchema,
  path: string,
  dir: Direction,
  ctx: Context,
): void {
  const found: [keyword: string, direction: "narrowed" | "widened" | "changed"][] = [];
  for (const keyword of LOWER_BOUNDS) {
    const change = compareBound(b[keyword], a[keyword], (from, to) => to > from);
    if (change) found.push([keyword, change]);
  }
  for (const keyword of UPPER_BOUNDS) {
    const change = compareBound(b[keyword], a[keyword], (from, to) => to < from);
    if (change) found.push([keyword, change]);
  }
  for (const keyword of EXACT_CONSTRAINTS) {
    if (isDeepStrictEqual(b[keyword], a[keyword])) continue;
    if (b[keyword] === undefined) found.push([keyword, "narrowed"]);
    else if (a[keyword] === undefined) found.push([keyword, "widened"]);
    else found.push([keyword, "changed"]);
  }
  if (b.uniqueItems !== a.uniqueItems) {
    found.push(["uniqueItems", a.uniqueItems === true ? "narrowed" : "widened"]);
  }
  const closed = (schema: JsonSchema) => schema.additionalProperties === false;
  if (closed(b) !== closed(a))
    found.push(["additionalProperties", closed(a) ? "narrowed" : "widened"]);

  for (const [keyword, change] of found) {
    const text = `${keyword} ${json(b[keyword])} → ${json(a[keyword])}`;
    if (dir === "output") {
      report(ctx, "compatible", `${path}.${keyword}`, "output-constraint-changed", text);
    } else if (change === "widened") {
      report(
        ctx,
        "compatible",
        `${path}.${keyword}`,
        "constraint-widened",
        `${text}: accepts more`,
      );
    } else {
      report(
        ctx,
        "breaking",
        `${path}.${keyword}`,
        `constraint-${change}`,
        `${text}: values accepted before may now be rejected`,
      );
    }
  }
}

function compareBound(
  before: unknown,
  after: unknown,
  narrows: (from: number, to: number) => boolean,
): "narrowed" | "widened" | undefined {
  const from = typeof before === "number" ? before : undefined;
  const to = typeof after === "number" ? after : undefined;
  if (from === to) return undefined;
  if (from === undefined) return "narrowed";
  if (to === undefined) return "widened";
  return narrows(from, to) ? "narrowed" : "widened";
}

function compareProperties(
  b: JsonSchema,
  a: JsonSchema,
  path: string,
  dir: Direction,
  ctx: Context,
): void {
  const before = isObject(b.properties) ? b.properties : {};
  const after = isObject(a.properties) ? a.properties : {};
  const requiredBefore = new Set(Array.isArray(b.required) ? b.required : []);
  const requiredAfter = new Set(Array.isArray(a.required) ? a.required : []);
  for (const name of Object.keys(before)) {
    const at = `${path}.${name}`;
    if (!(name in after)) {
      if (dir === "input")
        report(
          ctx,
          "breaking",
          at,
          "argument-removed",
          `argument ${name} was removed; clients that send it are rejected or ignored`,
        );
      else
        report(
          ctx,
          "breaking",
          at,
          "output-field-removed",
          `output field ${name} was removed; clients reading it get nothing`,
        );
      continue;
    }
    const was = requiredBefore.has(name);
    const is = requiredAfter.has(name);
    if (!was && is) {
      if (dir === "input")
        report(
          ctx,
          "breaking",
          at,
          "argument-required",
          `argument ${name} became required; calls without it are rejected`,
        );
      else
        report(
          ctx,
          "compatible",
          at,
          "output-field-required",
          `output field ${name} is now always present`,
        );
    } else if (was && !is) {
      if (dir === "input")
        report(ctx, "compatible", at, "argument-optional", `argument ${name} is now optional`);
      else
        report(
          ctx,
          "breaking",
          at,
          "output-field-optional",
          `output field ${name} may now be missing; clients that read it may fail`,
        );
    }
    compareSchema(before[name], after[name], at, dir, ctx);
  }
  for (const name of Object.keys(after)) {
    if (name in before) continue;
    const at = `${path}.${name}`;
    if (dir === "output")
      report(ctx, "compatible", at, "output-field-added", `output field ${name} was added`);
    else if (requiredAfter.has(name))
      report(
        ctx,
        "breaking",
        at,
        "argument-added-required",
        `new required argument ${name}; calls without it are rejected`,
      );
    else report(ctx, "compatible", at, "argument-added", `optional argument ${name} was added`);
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function dedupe(changes: ContractChange[]): ContractChange[] {
  const seen = new Set<string>();
  return changes.filter((change) => {
    const key = `${change.kind}\0${change.path}\0${change.change}\0${change.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function sortChanges(changes: ContractChange[]): ContractChange[] {
  const rank = (change: ContractChange) => (change.kind === "breaking" ? 0 : 1);
  return [...changes].sort(
    (x, y) =>
      rank(x) - rank(y) ||
      compareStrings(x.tool, y.tool) ||
      compareStrings(x.path, y.path) ||
      compareStrings(x.change, y.change) ||
      compareStrings(x.message, y.message),
  );
}

// Locale-independent, so the snapshot and the report order are the same on every machine.
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isObject(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function quote(value: unknown): string {
  return value === undefined ? "(none)" : JSON.stringify(value);
}

function json(value: unknown): string {
  return value === undefined ? "(none)" : JSON.stringify(value);
}
