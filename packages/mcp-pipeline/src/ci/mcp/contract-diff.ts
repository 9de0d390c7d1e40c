/**
 * The MCP tool contract's diff engine: every difference between two snapshots of `tools/list`,
 * each classified as breaking or compatible. The gate that judges them is contract.ts.
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
import {
  type ChangeKind,
  type ContractChange,
  type ContractSnapshot,
  type ContractTool,
  compareStrings,
  isObject,
  type JsonSchema,
  SCHEMA_KEYWORDS,
  SCHEMA_LIST_KEYWORDS,
  SCHEMA_MAP_KEYWORDS,
} from "./contract-snapshot.js";

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

function quote(value: unknown): string {
  return value === undefined ? "(none)" : JSON.stringify(value);
}

function json(value: unknown): string {
  return value === undefined ? "(none)" : JSON.stringify(value);
}
