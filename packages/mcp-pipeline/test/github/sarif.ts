import { Ajv } from "ajv";
import schema from "./fixtures/sarif-schema-2.1.0.json" with { type: "json" };

/**
 * The SARIF 2.1.0 schema (OASIS, rtm.5, as schemastore publishes it and npm's
 * `@microsoft/jest-sarif@1.0.0-beta.0` ships it; sha256 2d99159a…4de4f8), for
 * Ajv 8. It is written in draft-04, whose only construct here Ajv 8 does not
 * read is the top-level `id`: it becomes `$id`.
 */
export function sarifSchema(): Record<string, unknown> {
  const { $schema: _draft, id, ...rest } = schema as Record<string, unknown>;
  return { $id: id, ...rest };
}

/** The first few schema violations of a SARIF document ("" path is the root); empty when valid. */
export function validateSarif(doc: unknown): string[] {
  const ajv = new Ajv({
    strict: false,
    validateSchema: false,
    // The schema's `language` pattern has a stray `]` that only non-Unicode regular expressions accept.
    unicodeRegExp: false,
  });
  const validate = ajv.compile(sarifSchema());
  if (validate(doc)) return [];
  return (validate.errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`);
}
