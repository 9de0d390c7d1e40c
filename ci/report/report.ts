import { appendFile, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { CheckResult } from "../checks/check.js";
import { ReportWriteError } from "../errors.js";
import type { SignatureRecord } from "../stages/sign.js";
import { renderMarkdown } from "./markdown.js";

/** Everything the pipeline found out, as written to `report.json`. */
export interface PipelineReport {
  ok: boolean;
  image: {
    ref: string;
    digest: string | null;
    sizeBytes: number | null;
    compressedBytes: number | null;
    /** Every platform's image: its size, and its digest in the published index. */
    platforms?: PlatformFacts[];
  };
  checks: CheckResult[];
  /** Fully qualified references that were pushed, e.g. `ghcr.io/o/r:1.2.3`. */
  published: string[];
  /** What stopped the run before its gates could decide, when something did. */
  error: ReportError | null;
  /** Signatures of the published digest (cosign), when it was signed. */
  signatures?: SignatureRecord[];
  /** Attestations on the published digest: the SBOM and the SLSA provenance. */
  attestations?: SignatureRecord[];
  /** The commands a user runs to verify the published image themselves. */
  verify?: string[];
  /**
   * Set when nothing the run depends on had changed since an earlier run that passed, whose
   * results this run reused whole instead of building and checking again (ci/replay/).
   */
  replayed?: { run: string; at: string } | undefined;
}

/** One platform's image in the report. */
export interface PlatformFacts {
  platform: string;
  sizeBytes: number;
  compressedBytes: number;
  /** Its manifest's digest in the published index; null before publishing. */
  digest: string | null;
}

/** Why a run ended early: the image did not build, publishing failed, or something unexpected. */
export interface ReportError {
  kind: "build" | "publish" | "configuration" | "internal";
  message: string;
}

/** How one pipeline stage went; `status` is free text such as `passed`, `failed`, `skipped`. */
export interface StageSummary {
  name: string;
  status: string;
  durationMs: number;
}

export interface ReportExtra {
  /** Wall time of the whole run. */
  durationMs?: number | undefined;
  stages?: readonly StageSummary[] | undefined;
}

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

/** What replaces a secret value in reports. */
export const REDACTED = "***";

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

/**
 * Replaces every occurrence of each secret value with `***`: as given, trimmed, URL-encoded,
 * base64-encoded (as Docker configs and Basic auth carry it), and each line of a multi-line
 * secret (a PEM key can surface a line at a time; its armour lines are public). Longer forms are
 * replaced first, so a secret that contains another is not half-redacted. Empty and
 * whitespace-only values are ignored. The one redaction every report, log and message uses.
 */
export function redact(text: string, secrets: readonly string[]): string {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (secret.trim() === "") continue;
    needles.add(secret);
    needles.add(secret.trim());
    needles.add(encodeURIComponent(secret));
    needles.add(Buffer.from(secret).toString("base64"));
    if (secret.includes("\n")) {
      for (const line of secret.split("\n").map((l) => l.trim())) {
        if (line.length >= 8 && !line.startsWith("-----")) needles.add(line);
      }
    }
  }
  let out = text;
  for (const needle of [...needles].toSorted((a, b) => b.length - a.length)) {
    out = out.split(needle).join(REDACTED);
  }
  return out;
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
    error: report.error ? { kind: report.error.kind, message: r(report.error.message) } : null,
    ...(report.signatures ? { signatures: report.signatures } : {}),
    ...(report.attestations ? { attestations: report.attestations } : {}),
    ...(report.verify ? { verify: report.verify.map(r) } : {}),
    ...(report.replayed ? { replayed: report.replayed } : {}),
  };
}
