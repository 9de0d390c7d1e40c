import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeError } from "../checks/check.js";
import { BuildError, InternalError, PipelineError, PublishError } from "../errors.js";
import { redact } from "../report/redact.js";
import type { ReportError } from "../report/schema.js";

/** The first non-empty line of an error's message. */
export function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n").find((line) => line.trim() !== "") ?? "unknown error";
}

/**
 * What a run that stopped on `err` reports and throws: a pipeline error as it is; anything
 * unexpected as an InternalError of one line, its whole chain written to `error.log` in the
 * report directory (secrets redacted).
 */
export function asPipelineFailure(
  err: unknown,
  reportDir: string,
  secrets: readonly string[],
): PipelineError {
  if (err instanceof PipelineError) return err;
  const logFile = join(reportDir, "error.log");
  try {
    mkdirSync(reportDir, { recursive: true });
    writeFileSync(
      logFile,
      `${redact(describeError(err).join("\n"), secrets)}\n\n${redact(String((err as Error)?.stack ?? ""), secrets)}\n`,
    );
  } catch {
    // The report write that follows says what is wrong with the directory.
  }
  return new InternalError(redact(firstLine(err), secrets), logFile, { cause: err });
}

/** The report's `error` for a run that stopped on `err`. */
export function reportError(err: PipelineError): ReportError {
  const message = err.message;
  if (err instanceof BuildError) return { kind: "build", message };
  if (err instanceof InternalError)
    return { kind: "internal", message: `${message} (full error in ${err.logFile})` };
  if (err instanceof PublishError) return { kind: "publish", message };
  return { kind: "configuration", message };
}
