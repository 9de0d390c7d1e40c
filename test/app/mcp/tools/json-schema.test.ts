import { describe, expect, it } from "vitest";
import { z } from "zod";
import { JSON_SCHEMA_DIALECT, publishSchema } from "../../../../app/mcp/tools/json-schema.js";

const Schema = z.strictObject({
  title: z.string().min(1).describe("What to do."),
  priority: z.enum(["low", "high"]).default("low"),
});

describe("publishSchema", () => {
  it("publishes the same frozen JSON Schema 2020-12 on every call, so no request converts it again", () => {
    const published = publishSchema(Schema);
    const options = { target: "draft-2020-12" } as const;
    const input = published["~standard"].jsonSchema.input(options);
    expect(published["~standard"].jsonSchema.input(options)).toBe(input);
    expect(Object.isFrozen(input)).toBe(true);
    expect(Object.isFrozen(input.properties)).toBe(true);
    expect(input).toMatchObject({ $schema: JSON_SCHEMA_DIALECT, required: ["title"] });
  });

  it("publishes defaulted fields as optional on input and required on output, as zod does", () => {
    const published = publishSchema(Schema);
    expect(published.inputJson.required).toEqual(["title"]);
    expect(published.outputJson.required).toEqual(["title", "priority"]);
    expect(published.outputJson).toEqual({
      ...z.toJSONSchema(Schema, { target: "draft-2020-12", io: "output" }),
      $schema: JSON_SCHEMA_DIALECT,
    });
  });

  it("validates with the zod schema, defaults applied and issues kept", async () => {
    const standard = publishSchema(Schema)["~standard"];
    expect(await standard.validate({ title: "x" })).toEqual({
      value: { title: "x", priority: "low" },
    });
    const refused = await standard.validate({ title: "", extra: 1 });
    expect(refused.issues?.map((issue) => issue.path?.join("."))).toEqual(
      expect.arrayContaining(["title", ""]),
    );
  });
});
