import { Command, InvalidArgumentError, Option } from "commander";
import { CHECK_IDS } from "./checks/index.js";
import type { ConfigOverrides } from "./config/load.js";
import type { Config } from "./config/schema.js";
import { EnvironmentError } from "./errors.js";

// The command line of a pipeline run: its stages, options and help, parsed with commander, and
// the configuration overrides its options make. `request.ts` reads a run's request from it.

/**
 * What `mcp-pipeline <stage>` runs; each of build, verify, publish includes the stages
 * before it. `contract` builds, brings the stack up and compares (or, with `updateContract`,
 * rewrites) the MCP tool contract.
 */
export const STAGES = ["all", "build", "verify", "publish", "contract"] as const;
export type Stage = (typeof STAGES)[number];

interface Options {
  config?: string;
  image?: string;
  dockerfile?: string;
  context?: string;
  target?: string;
  buildArg: string[];
  sizeBudget?: string;
  compressedBudget?: string;
  healthTimeout?: string;
  severity?: string;
  registry?: string;
  repository?: string;
  username?: string;
  tag: string[];
  publish: boolean;
  skip: string[];
  update?: boolean;
  cache: boolean;
  sign: boolean;
  reportDir?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** The command line of a pipeline run: `mcp-pipeline [stage] [options]`. */
export function pipelineCommand(): Command {
  return new Command("mcp-pipeline")
    .description(
      "Build the image with Dagger, verify it (non-root, size, health, Trivy, compose smoke), publish it, report.",
    )
    .argument(
      "[stage]",
      `what to run: ${STAGES.join(" | ")} (each includes the stages before it)`,
      "all",
    )
    .option(
      "-c, --config <file>",
      "config file (default: pipeline.config.yaml|yml|json when present)",
    )
    .option("--image <name>", "local image name, without tag (image.name)")
    .option("--dockerfile <path>", "Dockerfile, relative to the context (image.dockerfile)")
    .option("--context <dir>", "build context (image.context)")
    .option("--target <stage>", "Dockerfile stage to build (image.target)")
    .option(
      "--build-arg <KEY=VALUE>",
      "extra build argument, repeatable (image.buildArgs)",
      collect,
      [],
    )
    .option(
      "--size-budget <MB>",
      "uncompressed size budget in MB of 10^6 bytes (sizeBudget.uncompressedMB)",
    )
    .option("--compressed-budget <MB>", "compressed size budget in MB (sizeBudget.compressedMB)")
    .option(
      "--health-timeout <seconds>",
      "how long the container may take to turn healthy (health.timeoutSeconds)",
    )
    .option(
      "--severity <list>",
      "Trivy severities that fail the gate, e.g. HIGH,CRITICAL (trivy.severities)",
    )
    .option("--registry <host>", "registry to log in to (registry.address; env REGISTRY)")
    .option("--repository <repo>", "repository to push to, without tag (registry.repository)")
    .option(
      "--username <user>",
      "registry user (registry.username; env REGISTRY_USERNAME, GITHUB_ACTOR)",
    )
    .option("--tag <tag>", "extra tag to publish, repeatable (tags.extra)", collect, [])
    .option("--no-publish", "verify only; never push, whatever the ref")
    .addOption(
      new Option("--skip <check>", "skip a check, repeatable")
        .choices([...CHECK_IDS])
        // After choices(), which would otherwise keep only the last value.
        .argParser(collectCheckIds)
        .default([]),
    )
    .option(
      "--update",
      "with the contract stage: write the running image's tool contract as the snapshot",
    )
    .option(
      "--no-cache",
      "run every check, even those whose inputs have not changed since they passed",
    )
    .option(
      "--no-sign",
      "publish without signing (sign.enabled: false); the signature check says so",
    )
    .option("--report-dir <dir>", "where report.json, report.md, SARIF and SBOM go (reportDir)")
    .addHelpText(
      "after",
      `
Secrets come from the environment only: REGISTRY_PASSWORD (or GITHUB_TOKEN on GitHub Actions).
With no registry configured, publish goes to the local authenticated registry from \`mcp-pipeline setup\`.
Exit codes: 0 all gates passed, 1 a gate failed or the image did not build (nothing is published),
2 bad configuration or environment (the message names what to fix).`,
    )
    .exitOverride()
    .showHelpAfterError();
}

/** `--skip`: a gate id from the check table, collected; anything else is refused by name. */
function collectCheckIds(value: string, previous: string[]): string[] {
  if (!CHECK_IDS.includes(value))
    throw new InvalidArgumentError(`Allowed choices are ${CHECK_IDS.join(", ")}.`);
  return [...previous, value];
}

export function parseArgs(
  argv: string[],
  options: { quiet?: boolean } = {},
): { stage: Stage; opts: Options } {
  const program = pipelineCommand();
  // Quiet: a caller that only tries its luck leaves help and usage errors to the real run.
  if (options.quiet)
    program.configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  program.parse(argv);
  const stage = program.args[0] ?? "all";
  if (!(STAGES as readonly string[]).includes(stage)) {
    throw new EnvironmentError(
      `unknown stage ${JSON.stringify(stage)}: expected one of ${STAGES.join(", ")}`,
    );
  }
  return { stage: stage as Stage, opts: program.opts<Options>() };
}

export function overridesFrom(opts: Options): ConfigOverrides {
  const num = (v: string | undefined) =>
    v === undefined ? undefined : Number.isNaN(Number(v)) ? v : Number(v);
  const buildArgs = Object.fromEntries(
    opts.buildArg.map((a) => {
      const at = a.indexOf("=");
      if (at <= 0)
        throw new EnvironmentError(`--build-arg ${JSON.stringify(a)}: expected KEY=VALUE`);
      return [a.slice(0, at), a.slice(at + 1)];
    }),
  );
  return {
    image: {
      name: opts.image,
      dockerfile: opts.dockerfile,
      context: opts.context,
      target: opts.target,
      ...(opts.buildArg.length ? { buildArgs } : {}),
    },
    sizeBudget: {
      uncompressedMB: num(opts.sizeBudget) as number,
      compressedMB: num(opts.compressedBudget) as number,
    },
    health: { timeoutSeconds: num(opts.healthTimeout) as number },
    trivy: {
      severities: opts.severity?.split(",").map((s) => s.trim().toUpperCase()) as
        | Config["trivy"]["severities"]
        | undefined,
    },
    registry: { address: opts.registry, repository: opts.repository, username: opts.username },
    tags: opts.tag.length ? { extra: opts.tag } : {},
    reportDir: opts.reportDir,
  } as ConfigOverrides;
}
