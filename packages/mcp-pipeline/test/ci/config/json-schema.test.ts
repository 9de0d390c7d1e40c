import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { configJsonSchema, JSON_SCHEMA_FILE } from "../../../src/ci/config/json-schema.js";
import { PACKAGE_ROOT, REPO_ROOT } from "../../paths.js";

const validate = new Ajv2020({ strict: false, allErrors: true }).compile(configJsonSchema());

describe("the configuration's JSON Schema", () => {
  it("is the one the package ships, generated from the zod schema (npm run build -w mcp-pipeline writes it)", () => {
    const shipped = JSON.parse(readFileSync(join(PACKAGE_ROOT, JSON_SCHEMA_FILE), "utf8"));
    expect(shipped).toEqual(configJsonSchema());
  });

  it("accepts this repository's own pipeline.config.yaml", () => {
    const config = parse(readFileSync(join(REPO_ROOT, "pipeline.config.yaml"), "utf8"));
    expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
  });

  it("refuses what the pipeline refuses: an unknown field, a tag with a colon, a budget of zero", () => {
    for (const bad of [
      { image: { nmae: "x" } },
      { image: { name: "todo-mcp:latest" } },
      { sizeBudget: { uncompressedMB: 0 } },
      { compose: { port: 70000 } },
    ]) {
      expect(validate(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});
