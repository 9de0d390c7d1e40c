import { formatDuration, paint, renderTable, statusColor } from "../../host/terminal.js";
import type { CheckStatus } from "../checks/check.js";
import { formatBytes } from "../checks/size.js";
import type { PipelineReport, StageSummary } from "./schema.js";

/**
 * Renders the report as plain-text tables for the terminal: a verdict line,
 * the checks, the stages when given, and the published references. Status
 * words are coloured when `colors` says so: a stream that shows colours (a TTY
 * without `NO_COLOR`), or a decision made elsewhere.
 */
export function renderTerminalSummary(
  report: PipelineReport,
  stages: readonly StageSummary[] = [],
  colors: NodeJS.WriteStream | boolean = process.stderr,
): string {
  const color = (status: string, text: string) => paint(statusColor(status), text, colors);
  const lines: string[] = [];

  const size = report.image.sizeBytes === null ? "" : `  ${formatBytes(report.image.sizeBytes)}`;
  const digest = report.image.digest ? `  ${report.image.digest}` : "";
  const verdict = report.ok ? "PIPELINE PASSED" : "PIPELINE FAILED";
  lines.push(
    `${color(report.ok ? "passed" : "failed", verdict)}  ${report.image.ref}${digest}${size}`,
  );
  if (report.image.platforms && report.image.platforms.length > 1) {
    for (const p of report.image.platforms)
      lines.push(
        `  ${p.platform.padEnd(12)} ${formatBytes(p.sizeBytes).padStart(9)}  ${p.digest ?? ""}`.trimEnd(),
      );
  }
  if (report.error) lines.push(`${report.error.kind} error: ${oneLine(report.error.message)}`);
  if (report.replayed)
    lines.push(
      `replayed ${report.replayed.run} (${report.replayed.at}): nothing it depends on has changed; --no-cache builds and checks again`,
    );
  lines.push("");

  if (report.checks.length > 0) {
    lines.push(
      ...renderTable(
        [
          { title: "STATUS" },
          { title: "CHECK" },
          { title: "TIME", align: "right" },
          { title: "SUMMARY" },
        ],
        report.checks.map((check) => [
          statusWord(check.status),
          check.id,
          check.cached ? "cached" : formatDuration(check.durationMs),
          `${oneLine(check.summary)}${check.cached ? ` [from ${check.cached.run}]` : ""}`,
        ]),
        (row, column, padded) =>
          column === 0 ? color(report.checks[row]?.status ?? "", padded) : padded,
      ),
      "",
    );
  }

  if (stages.length > 0) {
    lines.push(
      ...renderTable(
        [{ title: "STAGE" }, { title: "STATUS" }, { title: "TIME", align: "right" }],
        stages.map((stage) => [stage.name, stage.status, formatDuration(stage.durationMs)]),
        (row, column, padded) => (column === 1 ? color(stages[row]?.status ?? "", padded) : padded),
      ),
      "",
    );
  }

  if (report.published.length > 0) {
    lines.push("Published:", ...report.published.map((ref) => `  ${ref}`));
  } else {
    lines.push("Published: nothing");
  }
  return `${lines.join("\n")}\n`;
}

function statusWord(status: CheckStatus): string {
  return { passed: "PASS", failed: "FAIL", skipped: "SKIP" }[status];
}

function oneLine(value: string): string {
  return value.replace(/\s*\n\s*/g, " ").trim();
}
