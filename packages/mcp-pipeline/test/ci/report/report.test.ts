import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ReportWriteError } from "../../../src/ci/errors.js";
import { redact } from "../../../src/ci/report/redact.js";
import { appendStepSummary, writeReport } from "../../../src/ci/report/report.js";
import type { PipelineReport } from "../../../src/ci/report/schema.js";
import { sampleReport, TOKEN } from "./sample.js";

describe("redact", () => {
  it("replaces every occurrence of every secret", () => {
    expect(redact(`a ${TOKEN} b ${TOKEN} c hunter2`, [TOKEN, "hunter2"])).toBe("a *** b *** c ***");
  });

  it("replaces the longer of two overlapping secrets first", () => {
    expect(redact("pass:password1", ["pass", "password1"])).toBe("***:***");
  });

  it("replaces URL-encoded secrets too", () => {
    expect(redact("https://u:p%40ss%2Fw@host", ["p@ss/w"])).toBe("https://u:***@host");
  });

  it("ignores empty secrets instead of mangling the text", () => {
    expect(redact("unchanged", ["", "  "])).toBe("unchanged");
  });
});

describe("writeReport", () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "pipeline-report-"));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes report.json with exactly the PipelineReport shape", async () => {
    const report = sampleReport();
    const { jsonPath } = await writeReport(path.join(dir, "nested"), {
      ...report,
      extraField: "dropped",
    } as PipelineReport);
    const raw = await readFile(jsonPath, "utf8");
    expect(raw.startsWith('{\n  "ok": false,\n  "image": {\n    "ref": "todo-mcp:dev",')).toBe(
      true,
    );
    const json = JSON.parse(raw) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(["ok", "image", "checks", "published", "error"]);
    expect(json).toEqual(report);
  });

  it("keeps the MCP Registry listing in report.json, redacted like every string", async () => {
    const report = {
      ...sampleReport(),
      mcpRegistry: { name: "io.github.o/r", entry: `https://registry.example/${TOKEN}` },
    };
    const { jsonPath } = await writeReport(dir, report, { secrets: [TOKEN] });
    const json = JSON.parse(await readFile(jsonPath, "utf8")) as PipelineReport;
    expect(json.mcpRegistry).toEqual({
      name: "io.github.o/r",
      entry: "https://registry.example/***",
    });
  });

  it("writes report.md with the rendered markdown", async () => {
    const { markdownPath, markdown } = await writeReport(dir, sampleReport(), { durationMs: 1 });
    expect(await readFile(markdownPath, "utf8")).toBe(markdown);
    expect(markdown).toContain("| ❌ | trivy |");
  });

  it("never writes a secret into either file", async () => {
    const report = sampleReport();
    report.published = [`ghcr.io/o/r:${TOKEN}`];
    const { jsonPath, markdownPath } = await writeReport(dir, report, {
      secrets: [TOKEN],
      stages: [{ name: `publish as ${TOKEN}`, status: "failed", durationMs: 1 }],
    });
    const json = await readFile(jsonPath, "utf8");
    const markdown = await readFile(markdownPath, "utf8");
    expect(json).not.toContain(TOKEN);
    expect(markdown).not.toContain(TOKEN);
    expect(json).toContain("login used ***");
    expect(markdown).toContain("publish as ***");
  });

  it("redacts a secret from every string field of report.json", async () => {
    const report = sampleReport();
    report.image.ref = `ghcr.io/o/r:${TOKEN}`;
    report.image.digest = `sha256:${TOKEN}`;
    for (const check of report.checks) check.summary = `${check.summary} with ${TOKEN}`;
    report.published = [`ghcr.io/o/r:${TOKEN}`];
    report.error = { kind: "publish", message: `push refused for ${TOKEN}` };
    const { jsonPath } = await writeReport(dir, report, { secrets: [TOKEN] });
    const json = JSON.parse(await readFile(jsonPath, "utf8")) as PipelineReport;
    expect(JSON.stringify(json)).not.toContain(TOKEN);
    expect(json.image.ref).toBe("ghcr.io/o/r:***");
    expect(json.image.digest).toBe("sha256:***");
    expect(json.checks.map((check) => check.summary)).toEqual([
      "runs as 1000:1000 with ***",
      "found 1 secret (1 HIGH) with ***",
      "skipped: an earlier gate | failed with ***",
    ]);
    expect(json.published).toEqual(["ghcr.io/o/r:***"]);
    expect(json.error).toEqual({ kind: "publish", message: "push refused for ***" });
  });

  it("does not modify the report it was given", async () => {
    const report = sampleReport();
    await writeReport(dir, report, { secrets: [TOKEN] });
    expect(report.checks[1]?.details[1]).toBe(`login used ${TOKEN}`);
  });

  it("throws a ReportWriteError when the directory cannot be created", async () => {
    const file = path.join(dir, "a-file");
    await writeFile(file, "");
    await expect(writeReport(path.join(file, "sub"), sampleReport())).rejects.toThrow(
      ReportWriteError,
    );
  });
});

describe("appendStepSummary", () => {
  it("appends to the file named by GITHUB_STEP_SUMMARY", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "step-summary-"));
    try {
      const file = path.join(dir, "summary.md");
      await writeFile(file, "# earlier step\n");
      expect(await appendStepSummary("## ours", file)).toBe(true);
      expect(await readFile(file, "utf8")).toBe("# earlier step\n## ours\n");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("does nothing outside GitHub Actions", async () => {
    expect(await appendStepSummary("## ours", undefined)).toBe(false);
  });
});
