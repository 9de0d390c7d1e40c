// What each job's steps wrote to GITHUB_STEP_SUMMARY under act. act v0.2.89 (pkg/runner/step.go)
// gives every step of a job the same file (<act cache>/<random>/act/workflow/SUMMARY.md), empties
// it before the step, and after the step reads it back and logs a non-empty one as a JSON entry
// `{"command": "summary", "content": …, "jobID", "job", "step"}`: one entry per step, as GitHub
// keeps one summary per step. This reads those entries from act's `--json` log.
import type { Workflow } from "./workflows.js";

/** The heading the pipeline's Markdown report starts with (src/ci/report/markdown.ts). */
const PIPELINE_SUMMARY = /^## (?:✅ Pipeline passed|❌ Pipeline failed): /gm;

/** Each job's step summaries, in order, by job id (a reusable workflow's job under its caller's id). */
export type StepSummaries = Map<string, { step: string; content: string }[]>;

/** The step summaries act logged, by job. */
export function stepSummariesFromLog(text: string, workflow: Workflow): StepSummaries {
  const callers = new Map(
    Object.entries(workflow.jobs)
      .filter(([, job]) => job.uses !== undefined)
      .map(([id, job]) => [job.name ?? id, id]),
  );
  const out: StepSummaries = new Map();
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    let entry: { command?: string; content?: string; jobID?: string; job?: string; step?: string };
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (entry.command !== "summary" || !entry.jobID || entry.content === undefined) continue;
    const id = callers.get(entry.job?.split("/")[0] ?? "") ?? entry.jobID;
    out.set(id, [...(out.get(id) ?? []), { step: entry.step ?? "", content: entry.content }]);
  }
  return out;
}

/**
 * The pipeline's Markdown summary must be in the step summary of the job that runs the pipeline
 * exactly once — not twice from one run — and in no other job's: end-to-end tests that run the
 * pipeline inside the `test` job must not add theirs. Returns the problems.
 */
export function judgeStepSummaries(
  summaries: StepSummaries,
  pipelineJob: string | undefined,
): string[] {
  const problems: string[] = [];
  const count = (id: string) =>
    (summaries.get(id) ?? []).reduce(
      (n, s) => n + (s.content.match(PIPELINE_SUMMARY)?.length ?? 0),
      0,
    );
  if (pipelineJob !== undefined) {
    const n = count(pipelineJob);
    if (n !== 1)
      problems.push(
        `the ${pipelineJob} job's step summary holds the pipeline's summary ${n} times, must be once`,
      );
  }
  for (const id of summaries.keys()) {
    if (id === pipelineJob) continue;
    const n = count(id);
    if (n > 0)
      problems.push(
        `the ${id} job's step summary holds the pipeline's summary ${n} times, must hold none (each pipeline run appends its own)`,
      );
  }
  return problems;
}
