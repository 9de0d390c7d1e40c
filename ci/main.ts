import { resolve } from "node:path";
import { Command, Option } from "commander";
import { CHECK_IDS } from "./checks/index.js";
import { readEnvironment } from "./config/environment.js";
import { type ConfigOverrides, loadConfig } from "./config/load.js";
import type { Config } from "./config/schema.js";
import { BuildError, EnvironmentError, InternalError, PipelineError } from "./errors.js";
import { runPipeline, STAGES, type Stage } from "./pipeline.js";

// `npm run pipeline -- [stage] [options]`: parses arguments, loads the configuration and the
// environment once, runs the pipeline, and maps the outcome to an exit code. Nothing else.

/** Exit codes: the entry point alone maps outcomes to them. */
const EXIT = { passed: 0, failed: 1, badInput: 2 } as const;

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

function parseArgs(argv: string[]): { stage: Stage; opts: Options } {
  const program = new Command("pipeline")
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
        .argParser(collect)
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
With no registry configured, publish goes to the local authenticated registry from \`npm run setup\`.
Exit codes: 0 all gates passed, 1 a gate failed or the image did not build (nothing is published),
2 bad configuration or environment (the message names what to fix).`,
    )
    .exitOverride()
    .showHelpAfterError();
  program.parse(argv);
  const stage = program.args[0] ?? "all";
  if (!(STAGES as readonly string[]).includes(stage)) {
    throw new EnvironmentError(
      `unknown stage ${JSON.stringify(stage)}: expected one of ${STAGES.join(", ")}`,
    );
  }
  return { stage: stage as Stage, opts: program.opts<Options>() };
}

function overridesFrom(opts: Options): ConfigOverrides {
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

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const cwd = process.cwd();
  const { stage, opts } = parseArgs(argv);
  const loaded = loadConfig({
    cwd,
    file: opts.config,
    env,
    overrides: overridesFrom(opts),
    overridesSource: "command-line options",
  });
  const config: Config = { ...loaded, reportDir: resolve(cwd, loaded.reportDir) };
  const outcome = await runPipeline({
    stage,
    config,
    environment: readEnvironment(env),
    cwd,
    publish: opts.publish,
    skip: opts.skip,
    updateContract: opts.update === true,
    useCache: opts.cache,
    sign: opts.sign,
  });
  return outcome.passed ? EXIT.passed : EXIT.failed;
}

try {
  process.exitCode = await main(process.argv, process.env);
} catch (err) {
  const code = (err as { code?: string }).code;
  if (code === "commander.helpDisplayed" || code === "commander.version") {
    process.exitCode = EXIT.passed;
  } else if (code?.startsWith("commander.")) {
    // commander has already printed the problem and the usage.
    process.exitCode = EXIT.badInput;
  } else if (err instanceof BuildError) {
    process.stderr.write(`pipeline: ${err.message}\n`);
    process.exitCode = EXIT.failed;
  } else if (err instanceof InternalError) {
    process.stderr.write(
      `pipeline: unexpected error: ${err.message}\n  the full error is in ${err.logFile}\n`,
    );
    process.exitCode = EXIT.failed;
  } else if (err instanceof PipelineError) {
    process.stderr.write(`pipeline: ${err.message}\n`);
    process.exitCode = EXIT.badInput;
  } else {
    // Before the pipeline could write its report (reading arguments, config, git).
    process.stderr.write(
      `pipeline: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exitCode = EXIT.failed;
  }
}
