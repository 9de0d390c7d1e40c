import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProgressLine } from "../../host/progress.js";
import type { RunStamp } from "../cache/results.js";
import { resolveRunEnv } from "../config/run-env.js";
import type { PipelineError } from "../errors.js";
import { type RunFacts, runFacts } from "../git/run-facts.js";
import { type PublishTarget, publishTarget } from "../registry/target.js";
import type { RunKey } from "../replay/key.js";
import type { PipelineReport, StageSummary } from "../report/schema.js";
import type { PipelineRequest } from "../request.js";
import type { Built } from "../stages/build.js";
import type { PublishResult } from "../stages/publish.js";
import { asPipelineFailure } from "./failure.js";

/**
 * One run of the pipeline as its stages see it: the request, what git says, where it publishes,
 * and the report the stages fill in as they go. Made once by `startRun`; each stage reads what
 * the earlier ones left and adds its own part.
 */
export interface Run {
  req: PipelineRequest;
  facts: RunFacts;
  /** The request asks to publish (`all`/`publish`, not `--no-publish`). */
  wantPublish: boolean;
  /** Where it publishes: undefined when this ref is not published. */
  target: PublishTarget | undefined;
  /** `image.runEnv` for this run, generated secrets included. */
  runEnv: Record<string, string>;
  /** Every secret value of the run, redacted from everything written. */
  secrets: string[];
  stamp: RunStamp;
  started: number;
  /** Scratch space of the run (exported tarballs), removed when it ends. */
  workDir: string;
  /** The key a passing run is kept under for replay, worked out while the image builds. */
  replayKey: Promise<RunKey | undefined> | undefined;
  report: PipelineReport;
  /** The stages that ran, for the summary. */
  stages: StageSummary[];
  /** Set once the report is written. */
  reported?: boolean;
  /** Set once a stage has failed: only the stages that always run follow. */
  failure?: PipelineError | undefined;
  built?: Built;
  published?: PublishResult;
}

/**
 * One stage of the pipeline: build, verify, publish, sign. The pipeline runs them in order;
 * each decides from the run whether it has work (`skip`), does it, and says how it ended.
 */
export interface Stage {
  /** Runs even after an earlier stage failed (the report). */
  always?: boolean;
  /** The name in the summary's stage table; it may depend on the run (verify or contract). */
  name(run: Run): string;
  /**
   * Why the stage does not run this time, or false when it does. A reason other than "" is
   * printed; "" skips silently (nothing was asked of it).
   */
  skip(run: Run): string | false;
  /** Does the stage's work on `run`; resolves to its status in the summary. */
  run(run: Run, progress: ProgressLine): Promise<string>;
}

/** Everything a run knows before its first stage: git's facts, the publish target, secrets. */
export async function startRun(req: PipelineRequest): Promise<Run> {
  const started = Date.now();
  const { config, environment: env, cwd } = req;
  const facts = await runFacts(cwd, config, env);
  const wantPublish = (req.stage === "all" || req.stage === "publish") && req.publish;
  const target = wantPublish && facts.computed.publish ? publishTarget(config, env) : undefined;
  const runEnv = resolveRunEnv(config.image.runEnv);
  return {
    req,
    facts,
    wantPublish,
    target,
    runEnv: runEnv.env,
    secrets: [
      ...runEnv.secrets,
      ...(target ? [target.password] : []),
      ...(env.registryPassword ? [env.registryPassword] : []),
    ],
    stamp: { run: env.runId, at: new Date(started).toISOString() },
    started,
    workDir: mkdtempSync(join(tmpdir(), "pipeline-")),
    replayKey: undefined,
    report: {
      ok: false,
      image: {
        ref: `${config.image.name}:pipeline`,
        digest: null,
        sizeBytes: null,
        compressedBytes: null,
      },
      checks: [],
      published: [],
      ...(facts.labels.mcpServerName
        ? { mcpRegistry: { name: facts.labels.mcpServerName, entry: null } }
        : {}),
      error: null,
    },
    stages: [],
  };
}

/**
 * Runs one stage of `run` with a progress line, and records how it ended in the run's stage
 * table. A stage that throws sets the run's failure (only the stages that always run follow);
 * one that always runs throws on.
 */
export async function runStage(run: Run, stage: Stage): Promise<void> {
  if (run.failure && !stage.always) return;
  const name = stage.name(run);
  let progress: ProgressLine | undefined;
  try {
    const skipped = stage.skip(run);
    if (skipped !== false) {
      if (skipped) process.stderr.write(`pipeline: ${skipped}\n`);
      return;
    }
    progress = new ProgressLine(`[${name}]`);
    const status = await stage.run(run, progress);
    const durationMs = progress.finish(status);
    if (!stage.always) run.stages.push({ name, status, durationMs });
  } catch (err) {
    run.stages.push({ name, status: "error", durationMs: progress?.finish("ERROR") ?? 0 });
    if (stage.always) throw err;
    run.failure = asPipelineFailure(err, run.req.config.reportDir, run.secrets);
  }
}

/** Whether cosign must speak plain HTTP to a registry: the local ones and loopback. */
export function isPlainHttp(address: string, localRegistry: string | undefined): boolean {
  const host = address.split(":")[0] ?? "";
  return (
    address === localRegistry ||
    host === "localhost" ||
    /^127\./.test(host) ||
    host === "172.17.0.1"
  );
}

/** Whether any gate of the run has failed so far. */
export const gateFailed = (run: Run): boolean =>
  run.report.checks.some((c) => c.status === "failed");
