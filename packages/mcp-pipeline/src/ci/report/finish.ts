import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { storeRun } from "../cache/runs.js";
import { firstLine, reportError } from "../run/failure.js";
import type { Run, Stage } from "../run/run.js";
import { redact } from "./redact.js";
import { appendStepSummary, writeReport } from "./report.js";
import type { PipelineReport } from "./schema.js";
import { renderTerminalSummary } from "./terminal.js";

/**
 * `report`, the stage that always runs, whatever happened before it: `report.json` and
 * `report.md` (redacted), the GitHub step summary, the record a later run may replay (only of
 * a run that passed), the terminal summary, and the run's scratch space removed. It has no row
 * of its own in the stage table it writes.
 */
export const reportStage: Stage = {
  always: true,
  name: () => "report",
  skip: () => false,
  run: async (run) => {
    await finishRun(run);
    return "written";
  },
};

async function finishRun(run: Run): Promise<void> {
  run.reported = true;
  const { report, req, secrets } = run;
  const { config, environment: env } = req;
  report.error = run.failure ? reportError(run.failure) : null;
  report.ok = run.failure === undefined && !report.checks.some((c) => c.status === "failed");
  try {
    const written = await writeReport(config.reportDir, report, {
      durationMs: Date.now() - run.started,
      stages: run.stages,
      secrets,
    });
    await appendStepSummary(written.markdown, env.stepSummaryFile);
    const key = report.ok ? await run.replayKey : undefined;
    if (key) {
      try {
        storeRun({
          dir: env.resultsDir,
          key,
          from: run.stamp,
          // As written: redacted.
          report: JSON.parse(readFileSync(written.jsonPath, "utf8")) as PipelineReport,
          images:
            run.built?.images.map((image) => ({ ref: image.localRef, id: image.facts.id })) ?? [],
          reportDir: config.reportDir,
        });
      } catch (err) {
        process.stderr.write(`pipeline: could not keep this run for replay: ${firstLine(err)}\n`);
      }
    }
    const summary = `${redact(renderTerminalSummary(report, run.stages, env.summary?.color ?? process.stderr), secrets)}\nreport: ${written.jsonPath}\n`;
    // `mcp-pipeline` prints it once Dagger has finished, so it is the last thing shown.
    if (env.summary) writeFileSync(env.summary.file, summary);
    else process.stderr.write(`\n${summary}`);
  } finally {
    rmSync(run.workDir, { recursive: true, force: true });
  }
}
