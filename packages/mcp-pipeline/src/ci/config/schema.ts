import { z } from "zod";

/** Trivy severities, lowest first. */
export const SEVERITIES = ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"] as const;
export const Severity = z.enum(SEVERITIES);
export type Severity = z.infer<typeof Severity>;

// Docker's grammar for a repository path component, and for a tag.
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
export const IMAGE_NAME = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const REGISTRY_HOST = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]+)?$/;
const ALLOWED_REGISTRY = /^(?:\*\.)?[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]+)?$/;
/**
 * The OCI registries the official MCP Registry (v1.8.9) accepts an image from, its patterns
 * included; a self-hosted registry of the same version has the same list.
 */
export const UPSTREAM_OCI_REGISTRIES: readonly string[] = [
  "docker.io",
  "registry-1.docker.io",
  "index.docker.io",
  "ghcr.io",
  "quay.io",
  "mcr.microsoft.com",
  "*.pkg.dev",
  "*.azurecr.io",
];
const REPOSITORY = new RegExp(
  `^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]+)?/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`,
);
/** A valid image tag: `[A-Za-z0-9_.-]`, at most 128 characters, not starting with `.` or `-`. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

const text = (expected = "expected a non-empty string") =>
  z.string({ error: expected }).trim().min(1, { error: expected });
const positiveNumber = () =>
  z
    .number({ error: "expected a positive number" })
    .positive({ error: "expected a positive number" });
const seconds = () => {
  const expected = "expected a whole number of seconds greater than 0";
  return z.number({ error: expected }).int({ error: expected }).positive({ error: expected });
};
const flag = () => z.boolean({ error: "expected true or false" });
const port = () => {
  const expected = "expected a port number between 1 and 65535";
  return z
    .number({ error: expected })
    .int({ error: expected })
    .min(1, { error: expected })
    .max(65535, { error: expected });
};
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** An OCI platform, `os/arch[/variant]`: `linux/amd64`, `linux/arm64`, `linux/arm/v7`. */
export const PLATFORM_PATTERN = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;
/** What `image.platforms` is when unset: an index for both. */
export const DEFAULT_PLATFORMS = ["linux/amd64", "linux/arm64"];
const platformList = "expected a list of platforms like [linux/amd64, linux/arm64]";
const SMOKE_COMMAND = "expected a command as a list, e.g. [./smoke.sh, --fast]";

/**
 * The MCP protocol revisions the MCP gates can verify, newest first: 2026-07-28 is stateless
 * (`server/discover`, per-request `_meta`), 2025-11-25 the last of the initialize-handshake era.
 */
export const MCP_REVISIONS = ["2026-07-28", "2025-11-25"] as const;
export type McpRevision = (typeof MCP_REVISIONS)[number];
const revisionList = `expected a list of MCP revisions, some of ${MCP_REVISIONS.join(", ")}`;
const McpRevisionName = z.enum(MCP_REVISIONS, {
  error: `expected an MCP revision this pipeline verifies: ${MCP_REVISIONS.join(" or ")}`,
});
const scenarioList = () => z.array(text(), { error: "expected a list of scenario names" });

const severityList = `one of ${SEVERITIES.join(", ")}`;
const TrivySeverities = z
  .array(
    z.preprocess(
      (value) => (typeof value === "string" ? value.trim().toUpperCase() : value),
      z.enum(SEVERITIES, { error: `expected ${severityList}` }),
    ),
    { error: `expected a list of severities (${severityList})` },
  )
  .min(1, { error: `expected at least one severity (${severityList})` })
  .transform((list) => [...new Set(list)]);

// Numbers and booleans are accepted because YAML turns `NODE_MAJOR: 24` into a number.
const BuildArgValue = z
  .union([z.string(), z.number(), z.boolean()], { error: "expected a string" })
  .transform(String);

/**
 * The pipeline configuration. Every field has a default, so `{}` is a complete configuration.
 * Sizes are in MB of 1,000,000 bytes (decimal, as `docker image ls` and registries show them).
 */
export const Config = z.strictObject({
  image: z
    .strictObject({
      /** Local image name, without a tag; the build context's directory name when unset. */
      name: z
        .string({ error: "expected an image name like todo-mcp" })
        .regex(IMAGE_NAME, {
          error: "expected a lowercase image name like todo-mcp, without a tag",
        })
        .optional(),
      dockerfile: text().default("Dockerfile"),
      /** Build context directory, relative to the working directory. */
      context: text().default("."),
      /** Dockerfile stage to build; the last stage when unset. */
      target: text().optional(),
      /**
       * Platforms to build; published as one image index under every tag (a
       * single platform is published as a plain manifest). Duplicates are dropped.
       */
      platforms: z
        .array(
          z
            .string({ error: "expected a platform like linux/amd64" })
            .trim()
            .regex(PLATFORM_PATTERN, {
              error: "expected a platform like linux/amd64 or linux/arm64 (os/arch[/variant])",
            }),
          { error: platformList },
        )
        .min(1, { error: platformList })
        .transform((list) => [...new Set(list)])
        .default(DEFAULT_PLATFORMS),
      buildArgs: z
        .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), BuildArgValue, {
          error: (issue) =>
            issue.code === "invalid_key"
              ? "expected a build argument name (letters, digits and _, not starting with a digit)"
              : "expected a mapping of build argument names to values",
        })
        .default({}),
      /**
       * Environment of every container the checks start (and of the compose
       * stack): a value, or `{ generate: secret }` for a fresh random value per
       * run that is treated as a secret (never in argv, redacted from reports).
       */
      runEnv: z
        .record(
          z.string().regex(ENV_NAME),
          z.union([
            BuildArgValue,
            z.strictObject({ generate: z.literal("secret", { error: 'expected "secret"' }) }),
          ]),
          {
            error: (issue) =>
              issue.code === "invalid_key"
                ? "expected an environment variable name (letters, digits and _, not starting with a digit)"
                : "expected a mapping of variable names to values or { generate: secret }",
          },
        )
        .default({}),
    })
    .prefault({}),
  sizeBudget: z
    .strictObject({
      /** Budget for the uncompressed image, in MB of 1,000,000 bytes. */
      uncompressedMB: positiveNumber().default(150),
      /** Budget for the compressed (pushed) image, in MB of 1,000,000 bytes; unchecked when unset. */
      compressedMB: positiveNumber().optional(),
    })
    .prefault({}),
  health: z
    .strictObject({
      /** How long the container may take to report healthy. */
      timeoutSeconds: seconds().default(60),
    })
    .prefault({}),
  trivy: z
    .strictObject({
      /** Findings at these severities fail the gate. */
      severities: TrivySeverities.default(["HIGH", "CRITICAL"]),
      ignoreFile: text().default(".trivyignore"),
      ignoreUnfixed: flag().default(false),
      /** A pre-downloaded vulnerability database directory, for offline scans. */
      dbDir: text().optional(),
    })
    .prefault({}),
  compose: z
    .strictObject({
      /** The compose file of the stack the smoke test brings up; the check is skipped when it is absent. */
      file: text().default("docker-compose.yml"),
      /** The service that runs the built image; required for the smoke test. */
      service: text().optional(),
      /** The service's container port the smoke test reaches (published on a free loopback port). */
      port: port().optional(),
      timeoutSeconds: seconds().default(120),
      /** What proves the stack works once it is healthy; only `up --wait` when unset. */
      smoke: z
        .strictObject({
          /** A real MCP client over Streamable HTTP, at `mcp.path`. */
          mcp: z
            .strictObject({
              /** Tools `tools/list` must include. */
              expectTools: z.array(text(), { error: "expected a list of tool names" }).default([]),
              /**
               * Tool calls made in order; `${RUN_ID}` in arguments and `expect` is a fresh id per
               * run. A call fails the check when the tool reports an error, or when `expect` is
               * not found in its result.
               */
              calls: z
                .array(
                  z.strictObject({
                    tool: text(),
                    arguments: z.record(z.string(), z.unknown()).default({}),
                    expect: text().optional(),
                  }),
                  { error: "expected a list of { tool, arguments, expect } calls" },
                )
                .default([]),
            })
            .optional(),
          /**
           * A command run once the stack is healthy, with `SMOKE_URL` set to the service's
           * published address; exit 0 passes.
           */
          command: z.tuple([text(SMOKE_COMMAND)], text(), { error: SMOKE_COMMAND }).optional(),
        })
        .optional(),
    })
    .prefault({}),
  /**
   * The image is an MCP server (Streamable HTTP) at `compose.service`'s port: the MCP gates run
   * against the same stack as the smoke test. Without this section they are skipped, and say so.
   */
  mcp: z
    .strictObject({
      path: text().default("/mcp"),
      /**
       * The protocol revisions the server claims to speak. Every MCP gate runs under each: the
       * conformance scenarios at that revision's wire, `tools/list` and the smoke calls with a
       * client of that revision. A claimed revision the server does not speak fails the gates.
       * Duplicates are dropped.
       */
      revisions: z
        .array(McpRevisionName, { error: revisionList })
        .min(1, { error: revisionList })
        .transform((list) => [...new Set(list)])
        .default([...MCP_REVISIONS]),
      conformance: z
        .strictObject({
          /**
           * Scenarios of the official suite. A list runs each scenario at every claimed revision
           * whose requirement set has it; a mapping by revision (`2026-07-28: [...]`) sets one
           * revision's list and leaves the others at their default. Default: every scenario of
           * the revision's requirement set that needs none of the suite's fixture tools.
           */
          scenarios: z
            .union(
              [
                scenarioList(),
                z.strictObject(
                  Object.fromEntries(
                    MCP_REVISIONS.map((revision) => [revision, scenarioList().optional()]),
                  ) as Record<McpRevision, z.ZodOptional<ReturnType<typeof scenarioList>>>,
                ),
              ],
              {
                error: `expected a list of scenario names, or lists by revision (${MCP_REVISIONS.join(", ")})`,
              },
            )
            .optional(),
          /**
           * A baseline of known failures, reported, never hidden: `server: [scenario, …]` for every
           * revision, and `<revision>: { server: [...] }` for one; an entry may name one check
           * (`scenario:check-id`).
           */
          expectedFailures: text().optional(),
        })
        .prefault({}),
      contract: z
        .strictObject({
          /** The committed snapshot of `tools/list`; `mcp-pipeline contract --update` writes it. */
          file: text().default("mcp-contract.json"),
          /**
           * Tools whose definition may differ between the claimed revisions (or exist under only
           * some). Any other difference fails the gate; a listed tool that no longer differs does
           * too, so the list stays true.
           */
          revisionDifferences: z
            .array(text(), { error: "expected a list of tool names" })
            .default([]),
        })
        .prefault({}),
      /** The official MCP Registry's listing: the `mcp-registry` gate. */
      registry: z
        .strictObject({
          /**
           * The server.json the registry lists the server from; its name is passed to the build as
           * `MCP_SERVER_NAME` for the image's `io.modelcontextprotocol.server.name` label. The gate
           * is skipped, saying how to add one, when the file is absent.
           */
          serverJson: text().default("server.json"),
          /**
           * Registry hosts an OCI package's identifier may name: `host[:port]`, or `*.suffix`.
           * Replaces the MCP Registry's own list (the default), for a private registry or a test.
           */
          allowedRegistries: z
            .array(
              z
                .string({ error: "expected a registry host like ghcr.io or *.pkg.dev" })
                .trim()
                .regex(ALLOWED_REGISTRY, {
                  error:
                    "expected a registry host like ghcr.io, localhost:5000 or *.pkg.dev (no scheme, no path)",
                }),
              { error: "expected a list of registry hosts" },
            )
            .min(1, { error: "expected at least one registry host" })
            .default([...UPSTREAM_OCI_REGISTRIES]),
        })
        .prefault({}),
    })
    .optional(),
  sign: z
    .strictObject({
      /**
       * Sign what is published (by digest, with cosign) and attest its SBOM and SLSA provenance;
       * the `signature` check verifies both before the run passes.
       */
      enabled: flag().default(true),
      /**
       * The transparency log (Rekor) signatures are uploaded to online, for a private Sigstore
       * deployment; the public instance (https://rekor.sigstore.dev) when unset. Env `REKOR_URL`.
       */
      rekorUrl: z
        .string({ error: "expected a Rekor URL like https://rekor.example.com" })
        .trim()
        .regex(/^https?:\/\/[^\s/?#]+(?:\/[^\s?#]*)?$/, {
          error: "expected a Rekor URL like https://rekor.example.com (http or https, no query)",
        })
        .optional(),
      /**
       * That log's public key (a PEM file, relative to the project), which verification checks
       * its entries against; cosign's `SIGSTORE_REKOR_PUBLIC_KEY` when unset. Required with a
       * private `rekorUrl`: the public instance's key would not match.
       */
      rekorPublicKey: text().optional(),
    })
    .prefault({}),
  registry: z
    .strictObject({
      /** Registry host to log in to, e.g. `ghcr.io` or `localhost:5000`. */
      address: z
        .string({ error: "expected a registry host like ghcr.io or localhost:5000" })
        .regex(REGISTRY_HOST, {
          error: "expected a registry host like ghcr.io or localhost:5000 (no scheme, no path)",
        })
        .optional(),
      /** Full repository to push to, without a tag, e.g. `ghcr.io/owner/todo-mcp`. */
      repository: z
        .string({ error: "expected an image repository like ghcr.io/owner/name" })
        .regex(REPOSITORY, {
          error: "expected an image repository like ghcr.io/owner/name (lowercase, no tag)",
        })
        .optional(),
      // The password is deliberately absent: it comes from the environment as a secret.
      username: text().optional(),
    })
    .prefault({}),
  tags: z
    .strictObject({
      publishOnPullRequest: flag().default(false),
      latest: flag().default(true),
      extra: z
        .array(
          z.string({ error: "expected an image tag" }).regex(TAG_PATTERN, {
            error:
              "expected an image tag: letters, digits, _ . - only, at most 128 characters, not starting with . or -",
          }),
          { error: "expected a list of image tags" },
        )
        .default([]),
    })
    .prefault({}),
  reportDir: text().default("pipeline-report"),
});
/** The configuration after loading: every default filled in, the image name included. */
export type Config = z.infer<typeof Config> & { image: { name: string } };
/** What a config file, or `Config.parse`, accepts. */
export type ConfigInput = z.input<typeof Config>;
