import { stripVTControlCharacters } from "node:util";
import type { Workflow } from "./workflows.js";

/** How many of a failed step's last output lines a job keeps. */
export const FAILED_OUTPUT_LINES = 25;
/** A test runner's line naming what failed (Vitest's `FAIL`, `×`; TAP's `not ok`), wherever it is. */
const FAILURE_LINE = /^\s*(FAIL\s|×\s|✗\s|not ok\s)/;

/** One job of a simulated run, as act's JSON log tells it. */
export interface ActJob {
  id: string;
  name: string;
  /** `success`, `failure`, `cancelled`, or `skipped` when act never started it. */
  result: string;
  seconds?: number;
  /** The first step that failed, named as the Actions UI names it. */
  failedStep?: string;
  /**
   * What that step printed that says why, as GitHub's log would show it: the lines naming a
   * failure (`FAIL …`, `× …`), then its last lines; without colours, without repeats.
   */
  failedOutput?: string[];
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
  raw_output?: boolean;
}

/** A step's output as far as a report needs it: distinct failure lines, and a bounded tail. */
interface StepOutput {
  failures: string[];
  tail: string[];
}

/** Longer lines are cut here (a minified stack, a base64 blob). */
const MAX_LINE = 300;

/**
 * A line as a terminal leaves it: colours gone, and of a line redrawn with carriage returns (a
 * progress line) only its last state; cut at MAX_LINE characters.
 */
function asShown(message: string): string {
  const states = stripVTControlCharacters(message)
    .split("\r")
    .map((state) => state.trimEnd())
    .filter(Boolean);
  const text = states.at(-1) ?? "";
  return text.length > MAX_LINE ? `${text.slice(0, MAX_LINE - 1)}…` : text;
}

function remember(output: StepOutput, message: string): void {
  const text = asShown(message);
  if (text === "") return;
  const failure = text.trim();
  if (
    FAILURE_LINE.test(text) &&
    !output.failures.includes(failure) &&
    output.failures.length < FAILED_OUTPUT_LINES
  )
    output.failures.push(failure);
  output.tail.push(text);
  if (output.tail.length > FAILED_OUTPUT_LINES) output.tail.shift();
}

function excerpt(output: StepOutput | undefined): string[] {
  if (!output) return [];
  const { failures, tail } = output;
  return [...failures, ...tail.filter((line) => !failures.includes(line.trim()))];
}

/**
 * Reads act's `--json` log: per job, its result (the `🏁 Job …` line), the
 * time from its first to its last line, and the first failed step. A job of
 * `workflow` with no line at all was skipped (act logs skips only at debug
 * level). A job that calls a reusable workflow reports under its own id (the caller's). The
 * failed step's output (act's `raw_output` lines) is kept as an excerpt, so a report says why.
 */
export function parseActLog(text: string, workflow: Workflow, only: string[] = []): ActJob[] {
  const callers = new Map(
    Object.entries(workflow.jobs)
      .filter(([, job]) => job.uses !== undefined)
      .map(([id, job]) => [job.name ?? id, id]),
  );
  const byJob = new Map<
    string,
    {
      first: number;
      last: number;
      result?: string;
      failedStep?: string;
      name?: string;
      output: Map<string, StepOutput>;
    }
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
    const job = byJob.get(id) ?? { first: at, last: at, output: new Map<string, StepOutput>() };
    job.last = Math.max(job.last, at);
    job.name ??= entry.job;
    if (entry.jobResult) job.result = entry.jobResult;
    if (entry.raw_output === true && entry.step !== undefined && entry.msg !== undefined) {
      const output = job.output.get(entry.step) ?? { failures: [], tail: [] };
      remember(output, entry.msg);
      job.output.set(entry.step, output);
    }
    if (entry.stepResult === "failure" && entry.stage !== "Post" && !job.failedStep)
      job.failedStep = entry.step ?? entry.msg?.replace(/^\s*❌\s*Failure - /, "").trim();
    byJob.set(id, job);
  }
  return Object.entries(workflow.jobs)
    .filter(([id]) => only.length === 0 || only.includes(id))
    .map(([id, job]) => {
      const seen = byJob.get(id);
      if (!seen) return { id, name: job.name ?? id, result: "skipped" };
      const output = seen.failedStep ? excerpt(seen.output.get(seen.failedStep)) : [];
      return {
        id,
        name: job.name ?? seen.name ?? id,
        result: seen.result ?? "cancelled",
        seconds: (seen.last - seen.first) / 1000,
        ...(seen.failedStep ? { failedStep: seen.failedStep } : {}),
        ...(output.length > 0 ? { failedOutput: output } : {}),
      };
    });
}
