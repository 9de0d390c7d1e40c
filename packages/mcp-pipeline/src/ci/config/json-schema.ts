import { z } from "zod";
import { Config } from "./schema.js";

/** Where the package ships the configuration's JSON Schema, relative to the package root. */
export const JSON_SCHEMA_FILE = "schema/pipeline.config.schema.json";

/**
 * The JSON Schema (draft 2020-12) of `pipeline.config.yaml`, generated from the zod schema the
 * pipeline itself parses with, so editors complete and check exactly what the pipeline accepts.
 * It describes what may be written (the input side: every field optional, defaults shown).
 */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Config, {
    io: "input",
    target: "draft-2020-12",
    // Preprocessing steps (severity case, numbers in build args) accept more than they show.
    unrepresentable: "any",
  });
  return {
    ...schema,
    $id: "https://github.com/mcp-pipeline/mcp-pipeline/blob/main/packages/mcp-pipeline/schema/pipeline.config.schema.json",
    title: "mcp-pipeline configuration (pipeline.config.yaml)",
  };
}
