import { existsSync, readFileSync } from "node:fs";
import { stripVTControlCharacters } from "node:util";
import { BuildError, type BuildFailure } from "../errors.js";

/** How many lines of a failed step's output are kept. */
const OUTPUT_LINES = 30;
const STEP_FAILED = /process "(.*)" did not complete successfully: exit code: (\d+)/s;

/**
 * Reads the engine's message for a failed Dockerfile step
 * (`process "<command>" did not complete successfully: exit code: <n>`).
 */
export function parseStepFailure(
  message: string,
): { command: string; exitCode: number } | undefined {
  const m = STEP_FAILED.exec(message);
  if (!m?.[1] || !m[2]) return undefined;
  return { command: m[1].replaceAll('\\"', '"'), exitCode: Number(m[2]) };
}

/**
 * The output a failed step printed, from Dagger's plain trace: the span whose
 * error line names the step's process, and that span's log lines
 * (`12  : ┆ [0.1s] | text`). Empty when the trace does not have them.
 */
export function stepOutput(trace: string, message: string): string[] {
  const failed = /process ".*" did not complete successfully/s.exec(message)?.[0];
  if (!failed) return [];
  const lines = stripVTControlCharacters(trace).split("\n");
  // Several platforms run the same step: every span whose error names it is a candidate, and
  // the first that printed anything is the one reported.
  const spans = [
    ...new Set(
      lines
        .filter((line) => line.includes(failed))
        .flatMap((line) => line.match(/^\s*(\d+)\s*:/)?.[1] ?? []),
    ),
  ];
  const output = new Map<string, string[]>();
  for (const line of lines) {
    const m = /^\s*(\d+)\s*:\s*[┆\s]*\[[\d.]+m?s\]\s*\|\s?(.*)$/.exec(line);
    if (m?.[1] === undefined) continue;
    const out = output.get(m[1]) ?? [];
    out.push(m[2] ?? "");
    output.set(m[1], out);
  }
  for (const span of spans) {
    const out = output.get(span);
    if (out?.length) return out.slice(-OUTPUT_LINES);
  }
  return [];
}

/**
 * A BuildError for an error the engine returned while building: the step's
 * command and exit code from the engine's message, and its output from the
 * trace log when one is kept (it may trail the error, so it is read again for up to `waitMs`:
 * on two busy cores, with the failing platform under emulation, 3 s was once not enough, and
 * 10 s once not enough inside the GitHub simulation's pull request, whose jobs share the cores);
 * `platform` names the image that failed.
 */
export async function buildErrorFrom(
  err: unknown,
  traceLog: string | undefined,
  waitMs = 30_000,
  /** The platform whose image failed, when several are built. */
  platform?: string,
): Promise<BuildError> {
  const message = err instanceof Error ? err.message : String(err);
  const reason = (message.split("\n")[0] ?? message).replace(/\s*\[traceparent:[^\]]*\]/, "");
  const step = parseStepFailure(message);
  let output: string[] = [];
  if (step && traceLog) {
    const deadline = Date.now() + waitMs;
    for (;;) {
      output = existsSync(traceLog) ? stepOutput(readFileSync(traceLog, "utf8"), message) : [];
      if (output.length > 0 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  const failure: BuildFailure = { ...step, output, reason, ...(platform ? { platform } : {}) };
  return new BuildError(failure, { cause: err });
}
