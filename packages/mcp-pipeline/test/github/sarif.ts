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
