import { appendFile, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { ReportWriteError } from "../errors.js";
import { renderMarkdown } from "./markdown.js";
import { redact } from "./redact.js";
import type { PipelineReport, ReportExtra } from "./schema.js";

export interface WriteReportOptions extends ReportExtra {
  /** Secret values (tokens, passwords) to scrub from every string before anything is written. */
  secrets?: readonly string[] | undefined;
}

export interface WrittenReport {
  jsonPath: string;
  markdownPath: string;
  /** The rendered (and redacted) markdown, ready for `appendStepSummary`. */
  markdown: string;
}

/**
 * Writes `report.json` (exactly the PipelineReport shape, 2-space JSON) and `report.md` into
 * `dir`, creating it. Every string is passed through `redact` with `options.secrets` first.
 * Throws ReportWriteError when the files cannot be written.
 */
export async function writeReport(
  dir: string,
  report: PipelineReport,
  options: WriteReportOptions = {},
): Promise<WrittenReport> {
  const secrets = options.secrets ?? [];
  const clean = redactReport(report, secrets);
  const stages = options.stages?.map((stage) => ({
    name: redact(stage.name, secrets),
    status: redact(stage.status, secrets),
    durationMs: stage.durationMs,
  }));
  const markdown = redact(
    renderMarkdown(clean, { durationMs: options.durationMs, stages }),
    secrets,
  );
  const jsonPath = path.join(dir, "report.json");
  const markdownPath = path.join(dir, "report.md");
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(jsonPath, `${JSON.stringify(clean, null, 2)}\n`, "utf8");
    await writeFile(markdownPath, markdown, "utf8");
  } catch (error) {
    throw new ReportWriteError(
      `could not write the pipeline report to ${dir}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return { jsonPath, markdownPath, markdown };
}

/**
 * Appends markdown to `file` (GitHub's `$GITHUB_STEP_SUMMARY`), when one is given. Returns whether it did.
 */
export async function appendStepSummary(
  markdown: string,
  file: string | undefined,
): Promise<boolean> {
  if (!file) return false;
  try {
    await appendFile(file, markdown.endsWith("\n") ? markdown : `${markdown}\n`, "utf8");
  } catch (error) {
    throw new ReportWriteError(
      `could not append to the GitHub step summary ${file}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return true;
}

/** A copy of the report holding only PipelineReport's fields, with every string redacted. */
function redactReport(report: PipelineReport, secrets: readonly string[]): PipelineReport {
  const r = (value: string): string => redact(value, secrets);
  return {
    ok: report.ok,
    image: {
      ref: r(report.image.ref),
      digest: report.image.digest === null ? null : r(report.image.digest),
      sizeBytes: report.image.sizeBytes,
      compressedBytes: report.image.compressedBytes,
      ...(report.image.platforms ? { platforms: report.image.platforms } : {}),
    },
    checks: report.checks.map((check) => ({
      id: r(check.id),
      status: check.status,
      summary: r(check.summary),
      details: check.details.map(r),
      ...(check.markdown ? { markdown: r(check.markdown) } : {}),
      durationMs: check.durationMs,
      ...(check.cached ? { cached: check.cached } : {}),
    })),
    published: report.published.map(r),
    ...(report.mcpRegistry
      ? {
          mcpRegistry: {
            name: r(report.mcpRegistry.name),
            entry: report.mcpRegistry.entry === null ? null : r(report.mcpRegistry.entry),
          },
        }
      : {}),
    error: report.error ? { kind: report.error.kind, message: r(report.error.message) } : null,
    ...(report.signatures ? { signatures: report.signatures } : {}),
    ...(report.attestations ? { attestations: report.attestations } : {}),
    ...(report.verify ? { verify: report.verify.map(r) } : {}),
    ...(report.replayed ? { replayed: report.replayed } : {}),
  };
}
