import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ProvenanceError } from "../../../src/ci/errors.js";
import {
  buildProvenance,
  buildTypeOf,
  dockerPurl,
  type ProvenanceInput,
} from "../../../src/ci/sign/provenance.js";

// The SLSA Provenance v1 predicate as the spec defines it (https://slsa.dev/spec/v1.0/provenance),
// written independently of the builder: strict objects, so a misspelt field (`invocationID`,
// `buildtype`) fails rather than passing unnoticed.
const TypeUri = z.string().url();
const Timestamp = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
const DigestSet = z.record(z.string(), z.string().regex(/^[0-9a-f]+$/));
const ResourceDescriptor = z
  .object({
    uri: z.string().optional(),
    digest: DigestSet.optional(),
    name: z.string().optional(),
    downloadLocation: z.string().optional(),
    mediaType: z.string().optional(),
    content: z.string().optional(),
    annotations: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .refine((rd) => rd.uri || rd.digest || rd.content, "uri, digest or content is required");
const SlsaProvenanceV1Spec = z
  .object({
    buildDefinition: z
      .object({
        buildType: TypeUri,
        externalParameters: z.record(z.string(), z.unknown()),
        internalParameters: z.record(z.string(), z.unknown()).optional(),
        resolvedDependencies: z.array(ResourceDescriptor).optional(),
      })
      .strict(),
    runDetails: z
      .object({
        builder: z
          .object({
            id: TypeUri,
            builderDependencies: z.array(ResourceDescriptor).optional(),
            version: z.record(z.string(), z.string()).optional(),
          })
          .strict(),
        metadata: z
          .object({
            invocationId: z.string().optional(),
            startedOn: Timestamp.optional(),
            finishedOn: Timestamp.optional(),
          })
          .strict()
          .optional(),
        byproducts: z.array(ResourceDescriptor).optional(),
      })
      .strict(),
  })
  .strict();

const REVISION = "0123456789abcdef0123456789abcdef01234567";
const NODE_DIGEST = `sha256:${"ab".repeat(32)}`;
const DEBIAN_DIGEST = `sha256:${"cd".repeat(32)}`;

function input(overrides: Partial<ProvenanceInput> = {}): ProvenanceInput {
  return {
    pipeline: { uri: "https://github.com/octo-org/todo-mcp/tree/main/ci", version: "0.1.0" },
    toolVersions: { dagger: "0.19.10", cosign: "2.6.5" },
    source: {
      repository: "https://github.com/octo-org/todo-mcp",
      ref: "refs/tags/v1.2.3",
      revision: REVISION,
    },
    build: {
      dockerfile: "Dockerfile",
      context: ".",
      target: "mcp-server",
      args: { VERSION: "1.2.3", REVISION, CREATED: "2026-11-25T22:00:00.000Z" },
      secretNames: ["npm_ca"],
    },
    baseImages: [
      { ref: "node:24-bookworm-slim", digest: NODE_DIGEST },
      { ref: "debian:bookworm-slim", digest: DEBIAN_DIGEST },
    ],
    invocationId: "https://github.com/octo-org/todo-mcp/actions/runs/42/attempts/1",
    startedOn: new Date("2026-11-25T22:00:00.000Z"),
    finishedOn: new Date("2026-11-25T22:04:30.500Z"),
    ...overrides,
  };
}

describe("buildProvenance", () => {
  it("produces a predicate that conforms to the SLSA v1 provenance spec", () => {
    const predicate = buildProvenance(
      input({
        internalParameters: { mode: "online", engineImage: "registry.dagger.io/engine:v0.19.10" },
        byproducts: [{ name: "sbom.cdx.json", digest: { sha256: "ef".repeat(32) } }],
      }),
    );
    const parsed = SlsaProvenanceV1Spec.safeParse(predicate);
    expect(parsed.success, JSON.stringify(parsed.error?.issues, null, 2)).toBe(true);
  });

  it("names this pipeline as the build type and the builder, with its version and Dagger's", () => {
    const { buildDefinition, runDetails } = buildProvenance(input());
    expect(buildDefinition.buildType).toBe(
      "https://github.com/octo-org/todo-mcp/tree/main/ci/build-types/dockerfile-image/v1",
    );
    expect(runDetails.builder).toEqual({
      id: "https://github.com/octo-org/todo-mcp/tree/main/ci@0.1.0",
      version: { pipeline: "0.1.0", dagger: "0.19.10", cosign: "2.6.5" },
    });
  });

  it("records the source and build arguments as external parameters, and secrets by name only", () => {
    expect(buildProvenance(input()).buildDefinition.externalParameters).toEqual({
      source: {
        repository: "https://github.com/octo-org/todo-mcp",
        ref: "refs/tags/v1.2.3",
        revision: REVISION,
      },
      build: {
        dockerfile: "Dockerfile",
        context: ".",
        target: "mcp-server",
        args: { CREATED: "2026-11-25T22:00:00.000Z", REVISION, VERSION: "1.2.3" },
        secrets: ["npm_ca"],
      },
    });
  });

  it("resolves the source commit and every base image by digest", () => {
    expect(buildProvenance(input()).buildDefinition.resolvedDependencies).toEqual([
      {
        uri: "git+https://github.com/octo-org/todo-mcp@refs/tags/v1.2.3",
        digest: { gitCommit: REVISION },
      },
      {
        uri: "pkg:docker/node@24-bookworm-slim",
        name: "node:24-bookworm-slim",
        digest: { sha256: "ab".repeat(32) },
      },
      {
        uri: "pkg:docker/debian@bookworm-slim",
        name: "debian:bookworm-slim",
        digest: { sha256: "cd".repeat(32) },
      },
    ]);
  });

  it("records the invocation and its start and finish times in UTC", () => {
    expect(buildProvenance(input()).runDetails.metadata).toEqual({
      invocationId: "https://github.com/octo-org/todo-mcp/actions/runs/42/attempts/1",
      startedOn: "2026-11-25T22:00:00.000Z",
      finishedOn: "2026-11-25T22:04:30.500Z",
    });
  });

  it("leaves out optional sections that have nothing to say", () => {
    const predicate = buildProvenance(input({ build: { ...input().build, target: undefined } }));
    expect(predicate.buildDefinition).not.toHaveProperty("internalParameters");
    expect(predicate.runDetails).not.toHaveProperty("byproducts");
    expect(predicate.buildDefinition.externalParameters.build).not.toHaveProperty("target");
  });

  it("is deterministic: the same input in another key order gives the same JSON", () => {
    const reordered = input({
      build: {
        ...input().build,
        args: { CREATED: "2026-11-25T22:00:00.000Z", VERSION: "1.2.3", REVISION },
      },
    });
    expect(JSON.stringify(buildProvenance(reordered))).toBe(
      JSON.stringify(buildProvenance(input())),
    );
  });

  it("refuses to record a secret value, without repeating it in the message", () => {
    const secret = "ghp_s3cr3tTokenValue";
    const leaky = input({ build: { ...input().build, args: { NPM_TOKEN: secret } } });
    expect(() => buildProvenance({ ...leaky, secretValues: [secret] })).toThrowError(
      ProvenanceError,
    );
    try {
      buildProvenance({ ...leaky, secretValues: [secret] });
    } catch (error) {
      expect((error as Error).message).toMatch(/secret value would be recorded.*BuildKit secret/);
      expect((error as Error).message).not.toContain(secret);
      expect((error as ProvenanceError).code).toBe("PROVENANCE_INVALID");
    }
    expect(() => buildProvenance({ ...input(), secretValues: [secret, ""] })).not.toThrow();
  });

  it("refuses malformed inputs, naming the field", () => {
    const cases: [Partial<ProvenanceInput>, RegExp][] = [
      [{ pipeline: { uri: "todo-mcp pipeline", version: "1" } }, /pipeline.uri must be a URI/],
      [
        { source: { ...input().source, repository: "https://x-access-token:abc@github.com/o/r" } },
        /carries credentials/,
      ],
      [{ source: { ...input().source, revision: "abc123" } }, /full 40-hex git commit/],
      [{ source: { ...input().source, ref: "main" } }, /source.ref must be a full ref/],
      [{ baseImages: [{ ref: "node:24", digest: "latest" }] }, /base image node:24: digest/],
      [
        {
          startedOn: new Date("2026-11-25T23:00:00Z"),
          finishedOn: new Date("2026-11-25T22:00:00Z"),
        },
        /finishedOn .* is before startedOn/,
      ],
      [{ startedOn: new Date("nonsense") }, /must be valid dates/],
      [{ invocationId: " " }, /invocationId must not be empty/],
    ];
    for (const [override, message] of cases) {
      expect(() => buildProvenance(input(override)), String(message)).toThrowError(message);
    }
  });
});

describe("helpers", () => {
  it("derives the build type from the pipeline URI, ignoring a trailing slash", () => {
    expect(buildTypeOf("https://example.com/ci/")).toBe(
      "https://example.com/ci/build-types/dockerfile-image/v1",
    );
  });

  it("writes base images as Docker purls, defaulting the tag to latest", () => {
    expect(dockerPurl("node:24-bookworm-slim")).toBe("pkg:docker/node@24-bookworm-slim");
    expect(dockerPurl("172.17.0.1:5000/library/node")).toBe(
      "pkg:docker/172.17.0.1:5000/library/node@latest",
    );
  });
});
