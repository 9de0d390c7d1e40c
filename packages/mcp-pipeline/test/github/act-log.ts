import type { Workflow } from "./workflows.js";

/** One job of a simulated run, as act's JSON log tells it. */
export interface ActJob {
  id: string;
  name: string;
  /** `success`, `failure`, `cancelled`, or `skipped` when act never started it. */
  result: string;
  seconds?: number;
  /** The first step that failed, named as the Actions UI names it. */
  failedStep?: string;
}

interface Entry {
  jobID?: string;
  job?: string;
  jobResult?: string;
  stepResult?: string;
  step?: string;
  stage?: string;
  msg?: string;
  time?: string;
}

/**
 * Reads act's `--json` log: per job, its result (the `🏁 Job …` line), the
 * time from its first to its last line, and the first failed step. A job of
 * `workflow` with no line at all was skipped (act logs skips only at debug
 * level). A job that calls a reusable workflow reports under its own id (the caller's).
 */
export function parseActLog(text: string, workflow: Workflow, only: string[] = []): ActJob[] {
  const callers = new Map(
    Object.entries(workflow.jobs)
      .filter(([, job]) => job.uses !== undefined)
      .map(([id, job]) => [job.name ?? id, id]),
  );
  const byJob = new Map<
    string,
    { first: number; last: number; result?: string; failedStep?: string; name?: string }
  >();
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    let entry: Entry;
    try {
      entry = JSON.parse(line) as Entry;
    } catch {
      continue;
    }
    if (!entry.jobID) continue;
    // A called workflow's job is logged with the called job's id, and `job` as
    // `<caller's name>/<called job id>/<called job's name>`; others as `<workflow>/<name>`.
    const caller = callers.get(entry.job?.split("/")[0] ?? "");
    const id = caller ?? entry.jobID;
    const at = entry.time ? Date.parse(entry.time) : Date.now();
    const job = byJob.get(id) ?? { first: at, last: at };
    job.last = Math.max(job.last, at);
    job.name ??= entry.job;
    if (entry.jobResult) job.result = entry.jobResult;
    if (entry.stepResult === "failure" && entry.stage !== "Post" && !job.failedStep)
      job.failedStep = entry.step ?? entry.msg?.replace(/^\s*❌\s*Failure - /, "").trim();
    byJob.set(id, job);
  }
  return Object.entries(workflow.jobs)
    .filter(([id]) => only.length === 0 || only.includes(id))
    .map(([id, job]) => {
      const seen = byJob.get(id);
      if (!seen) return { id, name: job.name ?? id, result: "skipped" };
      return {
        id,
        name: job.name ?? seen.name ?? id,
        result: seen.result ?? "cancelled",
        seconds: (seen.last - seen.first) / 1000,
        ...(seen.failedStep ? { failedStep: seen.failedStep } : {}),
      };
    });
}
