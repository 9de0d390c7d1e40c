// What each job's steps wrote to GITHUB_STEP_SUMMARY under act. act v0.2.89 (pkg/runner/step.go)
// points every step of a job at the same file, <act cache>/<random>/act/workflow/SUMMARY.md, empties
// it (os.WriteFile with no body) before each step runs, never reads it back, and removes the job's
// directory when the job ends: nothing in act's output holds a summary. So the simulation watches
// those files while the jobs run and keeps each step's content before the next step empties it.
import { existsSync, type FSWatcher, readdirSync, readFileSync, watch } from "node:fs";
import { join } from "node:path";

/** The heading the pipeline's Markdown report starts with (src/ci/report/markdown.ts). */
const PIPELINE_SUMMARY = /^## (?:✅ Pipeline passed|❌ Pipeline failed): /gm;

/** One job's step summaries, in order, keyed by act's per-job directory. */
export type StepSummaries = Map<string, string[]>;

interface Tracked {
  current: string;
  steps: string[];
  watcher: FSWatcher | undefined;
}

/** Folds one read of a SUMMARY.md into what was seen: a shorter or different text means a new step. */
export function foldSummary(seen: { current: string; steps: string[] }, text: string): void {
  if (text.length < seen.current.length || !text.startsWith(seen.current)) {
    if (seen.current !== "") seen.steps.push(seen.current);
  }
  seen.current = text;
}

/**
 * Watches act's job directories under `actCache` (`$HOME/.cache/act` of the act process) until
 * `stop()`, which returns every job's step summaries.
 */
export function watchStepSummaries(actCache: string): { stop(): StepSummaries } {
  const tracked = new Map<string, Tracked>();
  const read = (dir: string, t: Tracked) => {
    const file = join(actCache, dir, "act", "workflow", "SUMMARY.md");
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      return; // The job ended and act removed its directory.
    }
    foldSummary(t, text);
  };
  const scan = () => {
    if (!existsSync(actCache)) return;
    for (const dir of readdirSync(actCache)) {
      const file = join(actCache, dir, "act", "workflow", "SUMMARY.md");
      let t = tracked.get(dir);
      if (!t && existsSync(file)) {
        t = { current: "", steps: [], watcher: undefined };
        tracked.set(dir, t);
        const entry = t;
        try {
          // inotify: read as soon as a step writes, long before the next step empties the file.
          entry.watcher = watch(file, () => read(dir, entry));
          entry.watcher.on("error", () => entry.watcher?.close());
        } catch {}
      }
      if (t) read(dir, t);
    }
  };
  const timer = setInterval(scan, 200);
  scan();
  return {
    stop() {
      clearInterval(timer);
      scan();
      const out: StepSummaries = new Map();
      for (const [dir, t] of tracked) {
        t.watcher?.close();
        out.set(dir, [...t.steps, ...(t.current ? [t.current] : [])]);
      }
      return out;
    },
  };
}

/**
 * The pipeline's Markdown summary must be in the step summaries of exactly one job (the one that
 * runs the pipeline), exactly once: not twice from one run, and not once more per pipeline run of
 * an end-to-end test in another job. Returns the problems.
 */
export function judgeStepSummaries(summaries: StepSummaries, pipelineJobs: number): string[] {
  const counts = [...summaries.values()].map(
    (steps) => steps.join("\n").match(PIPELINE_SUMMARY)?.length ?? 0,
  );
  const withSummary = counts.filter((n) => n > 0);
  const problems: string[] = [];
  if (withSummary.length !== pipelineJobs)
    problems.push(
      `the pipeline's summary is in the step summary of ${withSummary.length} job(s), must be ${pipelineJobs} (counts per job: ${counts.join(", ") || "none"})`,
    );
  for (const n of withSummary)
    if (n !== 1)
      problems.push(`a job's step summary holds the pipeline's summary ${n} times, must be once`);
  return problems;
}
