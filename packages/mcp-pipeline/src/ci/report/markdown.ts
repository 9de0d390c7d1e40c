import { formatDuration } from "../../host/terminal.js";
import type { CheckStatus } from "../checks/check.js";
import { formatBytes } from "../checks/size.js";
import type { PipelineReport, ReportExtra } from "./schema.js";

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
  if (report.replayed)
    out.push(
      `Replayed run \`${inlineCode(report.replayed.run)}\` (${report.replayed.at}): nothing it depends on has changed since, so its build and checks were not repeated.`,
      "",
    );
  if (report.image.platforms && report.image.platforms.length > 1) {
    out.push("| Platform | Size | Compressed | Digest |", "|---|---:|---:|---|");
    for (const p of report.image.platforms) {
      out.push(
        `| ${cell(p.platform)} | ${formatBytes(p.sizeBytes)} | ${formatBytes(p.compressedBytes)} | ${p.digest ? `\`${p.digest}\`` : "–"} |`,
      );
    }
    out.push("");
  }
  if (report.error) {
    out.push(
      `**The run stopped: ${report.error.kind} error.**`,
      "",
      ...fenced(report.error.message),
      "",
    );
  }

  if (report.checks.length === 0) {
    out.push("No checks ran.", "");
  } else {
    out.push("| | Check | Result | Duration |", "|---|---|---|---:|");
    for (const check of report.checks) {
      out.push(
        `| ${STATUS_EMOJI[check.status]} | ${cell(check.id)} | ${cell(check.summary)} | ${check.cached ? `cached from ${cell(check.cached.run)}` : formatDuration(check.durationMs)} |`,
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

  // Tables a check produced (conformance scenarios, contract changes), whatever its status.
  for (const check of report.checks) {
    if (!check.markdown) continue;
    out.push(`### ${html(check.id)}`, "", check.markdown.trimEnd(), "");
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
  out.push(...findIt(report));
  if (report.verify?.length) {
    const signed = [...(report.signatures ?? []), ...(report.attestations ?? [])];
    out.push(
      "### Verify it yourself",
      "",
      `Signed by ${html(report.signatures?.[0]?.signer ?? "unknown")}; ${signed.map((s) => s.kind).join(", ")} stored next to the image. With cosign:`,
      "",
      "```sh",
      ...report.verify,
      "```",
      "",
    );
  }
  return out.join("\n");
}

/**
 * `markdown` (a rendered report.md) with its "Find it" section rendered again from `report`:
 * how a later step (publishing server.json to an MCP Registry) adds what it found out without
 * the facts only the run knew (its stages and duration). Appended when there was none.
 */
export function withFindIt(markdown: string, report: PipelineReport): string {
  const section = findIt(report).join("\n");
  const start = markdown.indexOf("### Find it\n");
  if (start === -1) return `${markdown.replace(/\n*$/, "\n\n")}${section}`;
  const next = markdown.indexOf("\n### ", start + 1);
  return `${markdown.slice(0, start)}${section}${next === -1 ? "" : `\n${markdown.slice(next + 1)}`}`;
}

/**
 * "Find it": the name the MCP Registry lists the server under and its entry there once published,
 * and the image by digest (what a tag can no longer change). Nothing when there is neither.
 */
function findIt(report: PipelineReport): string[] {
  const { mcpRegistry } = report;
  const { digest } = report.image;
  if (!mcpRegistry && !digest) return [];
  const out = ["### Find it", ""];
  if (mcpRegistry) {
    out.push(
      mcpRegistry.entry
        ? `- MCP Registry: \`${inlineCode(mcpRegistry.name)}\`, ${mcpRegistry.entry}`
        : `- MCP Registry name: \`${inlineCode(mcpRegistry.name)}\` (server.json; not listed in an MCP Registry yet: a release lists it with \`mcp-registry-publish\`)`,
    );
  }
  out.push(
    digest
      ? `- Image: \`${inlineCode(`${repositoryOf(report.image.ref)}@${digest}`)}\``
      : "- Image: not published by this run",
  );
  out.push("");
  return out;
}

/** `host:5000/owner/app:1.2.3` → `host:5000/owner/app`: a tag follows the last `:` after the last `/`. */
function repositoryOf(ref: string): string {
  const colon = ref.lastIndexOf(":");
  return colon > ref.lastIndexOf("/") ? ref.slice(0, colon) : ref;
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
