import { lookupRun } from "./cache/runs.js";
import { runFacts } from "./git/run-facts.js";
import { replayable, runKey } from "./replay/key.js";
import { appendStepSummary, writeReport } from "./report/report.js";
import type { StageSummary } from "./report/schema.js";
import { renderTerminalSummary } from "./report/terminal.js";
import { readRequest } from "./request.js";

// `mcp-pipeline` runs this before `dagger run`: when nothing a run depends on has changed
// since a run that passed (ci/replay/key.ts), its report is written again from that run's record
// and the run ends there, without starting Dagger. Exit 0 after a replay; REPLAY_MISS (75,
// EX_TEMPFAIL) when there is nothing to replay, and the real run follows. Anything that goes
// wrong here is a miss: the real run reports it properly.

/** The exit code that tells `mcp-pipeline` to run the pipeline for real. */
const REPLAY_MISS = 75;

async function replay(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = Date.now();
  const req = readRequest(argv, env, process.cwd(), { quiet: true });
  const { config, environment, cwd } = req;
  const { git, computed, labels } = await runFacts(cwd, config, environment);
  // --no-cache reads nothing; the run it starts is still kept.
  if (req.useCache === false || !replayable(req, computed)) return REPLAY_MISS;
  const key = await runKey({
    stage: req.stage,
    skip: req.skip,
    config,
    cwd,
    labels,
    offline: environment.offline,
    ci: environment.ci,
    npmCaFile: environment.npmCaFile,
    registryHosts: environment.registryHosts,
  });
  const found = await lookupRun({ dir: environment.resultsDir, key, reportDir: config.reportDir });
  if ("miss" in found) {
    process.stderr.write(`pipeline: not replayed: ${found.miss}\n`);
    return REPLAY_MISS;
  }
  const { record } = found;
  const report = {
    ...record.report,
    checks: record.report.checks.map((check) => ({
      ...check,
      cached: check.cached ?? record.from,
    })),
    replayed: record.from,
  };
  const stages: StageSummary[] = [
    { name: "replay", status: `from ${record.from.run}`, durationMs: Date.now() - started },
  ];
  process.stderr.write(
    `pipeline: ${req.stage} · ${git.ref} @ ${git.sha.slice(0, 7)} · nothing changed since ${record.from.run}: its results are replayed\n`,
  );
  const written = await writeReport(config.reportDir, report, {
    durationMs: Date.now() - started,
    stages,
  });
  await appendStepSummary(written.markdown, environment.stepSummaryFile);
  process.stderr.write(
    `\n${renderTerminalSummary(report, stages, process.stderr)}\nreport: ${written.jsonPath}\n`,
  );
  return 0;
}

try {
  process.exitCode = await replay(process.argv, process.env);
} catch (err) {
  if (process.env.PIPELINE_REPLAY_DEBUG)
    process.stderr.write(`replay: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = REPLAY_MISS;
}
