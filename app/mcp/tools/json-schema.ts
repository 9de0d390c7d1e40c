import type { StandardSchemaWithJSON } from "@modelcontextprotocol/server";
import { z } from "zod";

/** The JSON Schema dialect of MCP 2026-07-28 tool schemas, named in each schema's `$schema`. */
export const JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema";

/** A zod schema that validates with zod and publishes a JSON Schema computed once. */
export interface PublishedSchema<S extends z.ZodType>
  extends StandardSchemaWithJSON<z.input<S>, z.output<S>> {
  /** The zod schema arguments or results are validated with. */
  readonly zod: S;
  /** What `tools/list` publishes for the schema's input side (tool arguments). */
  readonly inputJson: Readonly<Record<string, unknown>>;
  /** What `tools/list` publishes for the schema's output side (structured results). */
  readonly outputJson: Readonly<Record<string, unknown>>;
}

/**
 * Wraps a zod schema so the MCP server validates with zod but never converts it to JSON
 * Schema at request time. The server is built anew for every HTTP request, and the SDK
 * memoises conversions only per instance: without this, each `tools/call` would convert the
 * tool's output schema again. The conversion targets JSON Schema 2020-12 and says so in
 * `$schema`, as MCP 2026-07-28 expects of tool schemas.
 */
export function publishSchema<S extends z.ZodType>(schema: S): PublishedSchema<S> {
  const inputJson = deepFreeze(convert(schema, "input"));
  const outputJson = deepFreeze(convert(schema, "output"));
  const standard = schema["~standard"];
  return {
    zod: schema,
    inputJson,
    outputJson,
    "~standard": {
      version: 1,
      vendor: standard.vendor,
      validate: (value) => standard.validate(value),
      jsonSchema: {
        input: () => inputJson,
        output: () => outputJson,
      },
    },
  } as PublishedSchema<S>;
}

function convert(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: "draft-2020-12", io }) as Record<string, unknown>;
  return { ...json, $schema: JSON_SCHEMA_DIALECT };
}

// Every tools/list and tools/call shares these objects, so nothing may change them.
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
