import { connection } from "@dagger.io/dagger";
import { ProgressLine } from "../host/progress.js";
import { reportStage } from "./report/finish.js";
import type { PipelineReport } from "./report/schema.js";
import type { PipelineRequest } from "./request.js";
import { buildStage } from "./run/build.js";
import { asPipelineFailure } from "./run/failure.js";
import { preflightStage } from "./run/preflight.js";
import { publishStage } from "./run/publish.js";
import { runStage, type Stage, startRun } from "./run/run.js";
import { signStage } from "./run/sign.js";
import { verifyStage } from "./run/verify.js";

/** The stages, in order; each decides for itself whether this run has work for it. */
export const STAGE_LIST: readonly Stage[] = [
  preflightStage,
  buildStage,
  verifyStage,
  publishStage,
  signStage,
  reportStage,
];

export interface PipelineOutcome {
  report: PipelineReport;
  /** True when every gate that ran passed (skipped ones do not count against it). */
  passed: boolean;
}

/**
 * The pipeline: the stages in order inside one Dagger session, the report last whatever
 * happened. Gates decide `passed`; a build, publish or unexpected failure is thrown after the
 * report is written, with the report's `error` saying what stopped the run.
 */
export async function runPipeline(req: PipelineRequest): Promise<PipelineOutcome> {
  const run = await startRun(req);
  const { git, computed } = run.facts;
  process.stderr.write(
    `pipeline: ${req.stage} · ${git.ref} @ ${git.sha.slice(0, 7)} · tags ${computed.tags.join(", ")}${computed.publish ? "" : " (not published for this ref)"}\n`,
  );
  try {
    await connection(async () => {
      for (const stage of STAGE_LIST) await runStage(run, stage);
    });
  } catch (err) {
    // The Dagger session itself failed, or writing the report did.
    if (run.reported || !(err instanceof Error)) throw err;
    run.failure = asPipelineFailure(err, req.config.reportDir, run.secrets);
    await reportStage.run(run, new ProgressLine("[report]"));
  }
  if (run.failure !== undefined) throw run.failure;
  return { report: run.report, passed: run.report.ok };
}
