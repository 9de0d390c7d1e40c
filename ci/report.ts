import { appendFile, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { ReportWriteError } from "./errors.js";
import type { CheckResult, CheckStatus } from "./result.js";
import { formatBytes } from "./size.js";

/** Everything the pipeline found out, as written to `report.json`. */
export interface PipelineReport {
  ok: boolean;
  image: {
    ref: string;
    digest: string | null;
    sizeBytes: number | null;
    compressedBytes: number | null;
  };
  checks: CheckResult[];
  /** Fully qualified references that were pushed, e.g. `ghcr.io/o/r:1.2.3`. */
  published: string[];
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

export interface TerminalOptions {
  /** Colour status words with ANSI escapes. Off by default. */
  color?: boolean | undefined;
}

/** What replaces a secret value in reports. */
export const REDACTED = "***";

const STATUS_EMOJI: Record<CheckStatus, string> = {
  passed: "✅",
  failed: "❌",
  skipped: "⏭️",
};

/**
 * Renders the report as GitHub-flavoured markdown for `$GITHUB_STEP_SUMMARY` and `report.md`:
 * a ✅/❌ heading, the image, a table of checks, a collapsed `<details>` block per failed or
 * skipped check, the stages when given, and the published references.
 */
export function renderMarkdown(report: PipelineReport, extra: ReportExtra = {}): string {
  const out: string[] = [];
  const verdict = report.ok ? "✅ Pipeline passed" : "❌ Pipeline failed";
  out.push(`## ${verdict}: \`${inlineCode(report.image.ref)}\``, "");

  const facts = [`Image \`${inlineCode(report.image.ref)}\``];
  if (report.image.digest) facts.push(`digest \`${inlineCode(report.image.digest)}\``);
  if (report.image.sizeBytes !== null) {
    const compressed =
      report.image.compressedBytes === null
        ? ""
        : ` (${formatBytes(report.image.compressedBytes)} compressed)`;
    facts.push(`${formatBytes(report.image.sizeBytes)}${compressed}`);
  }
  if (extra.durationMs !== undefined) facts.push(`took ${formatDuration(extra.durationMs)}`);
  out.push(facts.join(" · "), "");

  if (report.checks.length === 0) {
    out.push("No checks ran.", "");
  } else {
    out.push("| | Check | Result | Duration |", "|---|---|---|---:|");
    for (const check of report.checks) {
      out.push(
        `| ${STATUS_EMOJI[check.status]} | ${cell(check.id)} | ${cell(check.summary)} | ${formatDuration(check.durationMs)} |`,
      );
    }
    out.push("");
  }

  for (const check of report.checks) {
    if (check.status === "passed") continue;
    out.push(
      "<details>",
      `<summary>${STATUS_EMOJI[check.status]} <b>${html(check.id)}</b>: ${html(check.summary)}</summary>`,
      "",
    );
    if (check.details.length === 0) out.push("_No details._");
    else out.push(...fenced(check.details.join("\n")));
    out.push("", "</details>", "");
  }

  if (extra.stages && extra.stages.length > 0) {
    out.push("### Stages", "", "| | Stage | Status | Duration |", "|---|---|---|---:|");
    for (const stage of extra.stages) {
      out.push(
        `| ${stageEmoji(stage.status)} | ${cell(stage.name)} | ${cell(stage.status)} | ${formatDuration(stage.durationMs)} |`,
      );
    }
    out.push("");
  }

  out.push("### Published", "");
  if (report.published.length === 0) out.push("Nothing was published.");
  else out.push(...report.published.map((ref) => `- \`${inlineCode(ref)}\``));
  out.push("");
  return out.join("\n");
}

/**
 * Renders the report as a plain-text table for the terminal: a verdict line, checks with padded
 * columns, stages when given, and published references. ANSI colours only with `color: true`.
 */
export function renderTerminalSummary(
  report: PipelineReport,
  stages?: readonly StageSummary[],
  options: TerminalOptions = {},
): string {
  const paint = (status: string, textValue: string): string =>
    options.color ? `${ansiFor(status)}${textValue}\u001b[0m` : textValue;
  const lines: string[] = [];

  const size = report.image.sizeBytes === null ? "" : `  ${formatBytes(report.image.sizeBytes)}`;
  const digest = report.image.digest ? `  ${report.image.digest}` : "";
  lines.push(
    `${paint(report.ok ? "passed" : "failed", report.ok ? "PIPELINE PASSED" : "PIPELINE FAILED")}  ${report.image.ref}${digest}${size}`,
    "",
  );

  if (report.checks.length > 0) {
    const rows = report.checks.map((check) => ({
      status: check.status,
      cells: [
        statusWord(check.status),
        check.id,
        formatDuration(check.durationMs),
        oneLine(check.summary),
      ],
    }));
    lines.push(
      ...table(["STATUS", "CHECK", "TIME", "SUMMARY"], rows, [false, false, true, false], paint),
    );
    lines.push("");
  }

  if (stages && stages.length > 0) {
    const rows = stages.map((stage) => ({
      status: stage.status,
      cells: [stage.name, stage.status, formatDuration(stage.durationMs)],
    }));
    lines.push(...table(["STAGE", "STATUS", "TIME"], rows, [false, false, true], paint, 1));
    lines.push("");
  }

  if (report.published.length > 0) {
    lines.push("Published:", ...report.published.map((ref) => `  ${ref}`));
  } else {
    lines.push("Published: nothing");
  }
  return `${lines.join("\n")}\n`;
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
 * Appends markdown to the file named by `$GITHUB_STEP_SUMMARY`, when set. Returns whether it did.
 */
export async function appendStepSummary(
  markdown: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<boolean> {
  const file = env.GITHUB_STEP_SUMMARY?.trim();
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
 * Replaces every occurrence of each secret value (and its URL-encoded form) with `***`.
 * Longer secrets are replaced first, so one that contains another is not half-redacted.
 * Empty and whitespace-only values are ignored.
 */
export function redact(text: string, secrets: readonly string[]): string {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (secret.trim() === "") continue;
    needles.add(secret);
    needles.add(encodeURIComponent(secret));
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
    },
    checks: report.checks.map((check) => ({
      id: r(check.id),
      status: check.status,
      summary: r(check.summary),
      details: check.details.map(r),
      durationMs: check.durationMs,
    })),
    published: report.published.map(r),
  };
}

/** Formats a duration: `420 ms`, `12.3 s`, `2 m 05 s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  return `${minutes} m ${String(seconds).padStart(2, "0")} s`;
}

function table(
  header: readonly string[],
  rows: readonly { status: string; cells: string[] }[],
  rightAligned: readonly boolean[],
  paint: (status: string, text: string) => string,
  statusColumn = 0,
): string[] {
  // The last column is free text, so it is never padded.
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row.cells[column] ?? "").length)),
  );
  const render = (cells: readonly string[], status?: string): string =>
    cells
      .map((value, column) => {
        const last = column === cells.length - 1;
        const width = widths[column] ?? 0;
        const padded = last
          ? value
          : rightAligned[column]
            ? value.padStart(width)
            : value.padEnd(width);
        return status !== undefined && column === statusColumn ? paint(status, padded) : padded;
      })
      .join("  ")
      .trimEnd();
  return [render(header), ...rows.map((row) => render(row.cells, row.status))];
}

function statusWord(status: CheckStatus): string {
  return { passed: "PASS", failed: "FAIL", skipped: "SKIP" }[status];
}

function ansiFor(status: string): string {
  if (/^(passed|ok|succeeded|success)$/i.test(status)) return "\u001b[32m";
  if (/^(failed|error|failure)$/i.test(status)) return "\u001b[31m";
  return "\u001b[33m";
}

function stageEmoji(status: string): string {
  if (/^(passed|ok|succeeded|success)$/i.test(status)) return "✅";
  if (/^(failed|error|failure)$/i.test(status)) return "❌";
  if (/^skipped$/i.test(status)) return "⏭️";
  return "•";
}

function oneLine(value: string): string {
  return value.replace(/\s*\n\s*/g, " ").trim();
}

/** Escapes a value for a markdown table cell. */
function cell(value: string): string {
  return html(oneLine(value)).replace(/\|/g, "\\|");
}

function html(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function inlineCode(value: string): string {
  return value.replace(/`/g, "'");
}

/** A fenced block whose fence is longer than any backtick run inside, so details cannot break out. */
function fenced(content: string): string[] {
  const longest = Math.max(2, ...[...content.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  return [`${fence}text`, content, fence];
}
