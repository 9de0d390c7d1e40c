import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { connection } from "@dagger.io/dagger";
import { Command, Option } from "commander";
import { toolchainPaths } from "../toolchain/paths.js";
import { ProgressLine } from "../toolchain/progress.js";
import { readState } from "../toolchain/state.js";
import { type Config, type ConfigOverrides, loadConfig } from "./config.js";
import { ConfigError, EnvironmentError, PipelineError } from "./errors.js";
import { commitTime, resolveGitContext, sourceUrl } from "./git.js";
import { publishTarget } from "./registry-target.js";
import {
  appendStepSummary,
  type PipelineReport,
  renderTerminalSummary,
  type StageSummary,
  writeReport,
} from "./report.js";
import type { CheckResult } from "./result.js";
import { build } from "./stages/build.js";
import { publish } from "./stages/publish.js";
import { CHECK_IDS, verify } from "./stages/verify.js";
import { computeTags } from "./tags.js";

const STAGES = ["all", "build", "verify", "publish"] as const;
type Stage = (typeof STAGES)[number];

/** Exit codes: the entry point alone maps outcomes to them. */
const EXIT = { ok: 0, gateFailed: 1, badEnvironment: 2 } as const;

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
    .option("--report-dir <dir>", "where report.json, report.md, SARIF and SBOM go (reportDir)")
    .addHelpText(
      "after",
      `
Secrets come from the environment only: REGISTRY_PASSWORD (or GITHUB_TOKEN on GitHub Actions).
With no registry configured, publish goes to the local authenticated registry from \`npm run setup\`.
Exit codes: 0 all gates passed, 1 a gate failed, 2 bad configuration or environment.`,
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
  const started = Date.now();
  const { stage, opts } = parseArgs(argv);
  const loaded = loadConfig({
    cwd,
    file: opts.config,
    env,
    overrides: overridesFrom(opts),
    overridesSource: "command-line options",
  });
  const config: Config = { ...loaded, reportDir: resolve(cwd, loaded.reportDir) };
  const offline = readState(toolchainPaths(env))?.mode === "airgap" || env.AIRGAP === "1";
  const git = await resolveGitContext(cwd, env);
  const computed = computeTags(git, {
    latest: config.tags.latest,
    extra: config.tags.extra,
    publishOnPullRequest: config.tags.publishOnPullRequest,
  });
  const wantPublish = (stage === "all" || stage === "publish") && opts.publish;
  const target = wantPublish && computed.publish ? publishTarget(config, env) : undefined;
  // The app refuses to start without a service token; each run gets a fresh, throwaway one.
  const runEnv = { SERVICE_AUTH_TOKEN: randomBytes(24).toString("hex") };
  const secrets = [runEnv.SERVICE_AUTH_TOKEN, ...(target ? [target.password] : [])];
  const npmCaFile = env.NPM_CA_FILE && existsSync(env.NPM_CA_FILE) ? env.NPM_CA_FILE : undefined;
  const workDir = mkdtempSync(resolve(tmpdir(), "pipeline-"));

  const stages: StageSummary[] = [];
  const report: PipelineReport = {
    ok: false,
    image: {
      ref: `${config.image.name}:pipeline`,
      digest: null,
      sizeBytes: null,
      compressedBytes: null,
    },
    checks: [],
    published: [],
  };
  const runStage = async <T>(
    name: string,
    fn: (p: ProgressLine) => Promise<T>,
    statusOf: (r: T) => string = () => "done",
  ): Promise<T> => {
    const progress = new ProgressLine(`[${name}]`);
    try {
      const result = await fn(progress);
      const status = statusOf(result);
      stages.push({ name, status, durationMs: progress.finish(status) });
      return result;
    } catch (err) {
      stages.push({ name, status: "error", durationMs: progress.finish("ERROR") });
      throw err;
    }
  };

  let exit: number = EXIT.ok;
  try {
    process.stderr.write(
      `pipeline: ${stage} · ${git.ref} @ ${git.sha.slice(0, 7)} · tags ${computed.tags.join(", ")}${computed.publish ? "" : " (not published for this ref)"}\n`,
    );
    await connection(async () => {
      const built = await runStage("build", async (p) => {
        p.update(
          `dockerBuild ${config.image.dockerfile}${config.image.target ? ` --target ${config.image.target}` : ""}`,
        );
        return build({
          cwd,
          config,
          labels: {
            version: computed.version,
            revision: git.sha,
            created: await commitTime(cwd),
            source: await sourceUrl(cwd, env),
          },
          npmCaFile,
          workDir,
          env,
        });
      });
      if (stage === "build") return;
      const verified = await runStage(
        "verify",
        (p) =>
          verify({
            image: built.localRef,
            tarball: built.tarball,
            cwd,
            config,
            runEnv,
            offline,
            env,
            skip: opts.skip,
            onCheck: (c: CheckResult) => p.update(`${c.id} ${c.status}`),
          }),
        (r) => (r.checks.some((c) => c.status === "failed") ? "gate failed" : "passed"),
      );
      report.checks = verified.checks;
      report.image.sizeBytes = verified.sizeBytes;
      report.image.compressedBytes = verified.compressedBytes;
      const gatesOk = !verified.checks.some((c) => c.status === "failed");
      if (!gatesOk) {
        exit = EXIT.gateFailed;
        if (wantPublish) process.stderr.write("pipeline: a gate failed, so nothing is published\n");
        return;
      }
      if (stage === "verify" || !wantPublish) return;
      if (!target) {
        process.stderr.write(
          `pipeline: ${git.ref} is not published (${computed.kind}); tags would be ${computed.tags.join(", ")}\n`,
        );
        return;
      }
      const published = await runStage("publish", (p) => {
        p.update(`${target.repository} ← ${computed.tags.join(", ")}`);
        return publish(built.container, target, computed.tags).catch((err: unknown) => {
          throw new EnvironmentError(
            `publishing to ${target.repository} failed: ${err instanceof Error ? err.message : String(err)}. Check the registry address and that REGISTRY_USERNAME / REGISTRY_PASSWORD may push there.`,
            { cause: err },
          );
        });
      });
      const { digest, refs } = published;
      report.image.ref = `${target.repository}:${computed.tags[0]}`;
      report.image.digest = digest;
      report.published = refs;
      for (const ref of refs) process.stdout.write(`published ${ref}\n`);
    });
  } finally {
    report.ok = exit === EXIT.ok && !report.checks.some((c) => c.status === "failed");
    const written = await writeReport(config.reportDir, report, {
      durationMs: Date.now() - started,
      stages,
      secrets,
    });
    await appendStepSummary(written.markdown, env);
    process.stderr.write(
      `\n${renderTerminalSummary(report, stages, { color: Boolean(process.stderr.isTTY) })}\nreport: ${written.jsonPath}\n`,
    );
    rmSync(workDir, { recursive: true, force: true });
  }
  return exit;
}

try {
  process.exitCode = await main(process.argv, process.env);
} catch (err) {
  const code = (err as { code?: string }).code;
  if (code === "commander.helpDisplayed" || code === "commander.version") {
    process.exitCode = EXIT.ok;
  } else if (
    err instanceof EnvironmentError ||
    err instanceof ConfigError ||
    err instanceof PipelineError ||
    code?.startsWith("commander.")
  ) {
    if (!code?.startsWith("commander."))
      process.stderr.write(`pipeline: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EXIT.badEnvironment;
  } else {
    process.stderr.write(
      `pipeline: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = EXIT.badEnvironment;
  }
}
