import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ReportWriteError } from "../../ci/errors.js";
import {
  appendStepSummary,
  formatDuration,
  type PipelineReport,
  redact,
  renderMarkdown,
  renderTerminalSummary,
  writeReport,
} from "../../ci/report.js";

const TOKEN = "ghp_s3cr3tT0kenValue";

function sampleReport(): PipelineReport {
  return {
    ok: false,
    image: {
      ref: "todo-mcp:dev",
      digest: "sha256:7cb6f406ea18dd15fd6bc29f23646e28f63cce9e29390a41f8e97c32e8c6ee07",
      sizeBytes: 134_200_000,
      compressedBytes: 48_100_000,
    },
    checks: [
      {
        id: "non-root",
        status: "passed",
        summary: "runs as 1000:1000",
        details: [],
        durationMs: 420,
      },
      {
        id: "trivy",
        status: "failed",
        summary: "found 1 secret (1 HIGH)",
        details: [
          'secret HIGH private-key "Asymmetric Private Key" in /app/config/deploy-key.pem:2',
          `login used ${TOKEN}`,
        ],
        durationMs: 12_345,
      },
      {
        id: "compose-smoke",
        status: "skipped",
        summary: "skipped: an earlier gate | failed",
        details: ["the image did not pass the trivy gate"],
        durationMs: 0,
      },
    ],
    published: [],
  };
}

describe("renderMarkdown", () => {
  it("heads a failed run with a cross and a passed run with a check mark", () => {
    expect(renderMarkdown(sampleReport())).toMatch(/^## ❌ Pipeline failed: `todo-mcp:dev`\n/);
    const passed = { ...sampleReport(), ok: true, checks: [] };
    expect(renderMarkdown(passed)).toMatch(/^## ✅ Pipeline passed: `todo-mcp:dev`\n/);
  });

  it("shows the image facts on one line", () => {
    expect(renderMarkdown(sampleReport(), { durationMs: 95_000 })).toContain(
      "Image `todo-mcp:dev` · digest `sha256:7cb6f406ea18dd15fd6bc29f23646e28f63cce9e29390a41f8e97c32e8c6ee07` · 134.2 MB (48.1 MB compressed) · took 1 m 35 s",
    );
  });

  it("renders one table row per check with status, id, summary and duration", () => {
    const markdown = renderMarkdown(sampleReport());
    expect(markdown).toContain("| | Check | Result | Duration |\n|---|---|---|---:|\n");
    expect(markdown).toContain("| ✅ | non-root | runs as 1000:1000 | 420 ms |");
    expect(markdown).toContain("| ❌ | trivy | found 1 secret (1 HIGH) | 12.3 s |");
    expect(markdown).toContain(
      "| ⏭️ | compose-smoke | skipped: an earlier gate \\| failed | 0 ms |",
    );
  });

  it("adds a collapsed details block for failed and skipped checks only", () => {
    const markdown = renderMarkdown(sampleReport());
    expect(markdown).toContain(
      '<details>\n<summary>❌ <b>trivy</b>: found 1 secret (1 HIGH)</summary>\n\n```text\nsecret HIGH private-key "Asymmetric Private Key" in /app/config/deploy-key.pem:2\n',
    );
    expect(markdown).toContain("<summary>⏭️ <b>compose-smoke</b>");
    expect(markdown).not.toContain("<b>non-root</b>");
    expect(markdown.match(/<details>/g)).toHaveLength(2);
    expect(markdown.match(/<\/details>/g)).toHaveLength(2);
  });

  it("keeps backticks in details from closing the code block early", () => {
    const report = sampleReport();
    report.checks[1] = { ...report.checks[1], details: ["```", "after"] } as never;
    expect(renderMarkdown(report)).toContain("````text\n```\nafter\n````");
  });

  it("lists stages when given", () => {
    const markdown = renderMarkdown(sampleReport(), {
      stages: [
        { name: "build", status: "passed", durationMs: 61_000 },
        { name: "publish", status: "skipped", durationMs: 0 },
      ],
    });
    expect(markdown).toContain("### Stages");
    expect(markdown).toContain("| ✅ | build | passed | 1 m 01 s |");
    expect(markdown).toContain("| ⏭️ | publish | skipped | 0 ms |");
  });

  it("lists published references, or says nothing was published", () => {
    expect(renderMarkdown(sampleReport())).toContain("### Published\n\nNothing was published.");
    const published = { ...sampleReport(), published: ["ghcr.io/o/r:1.2.3", "ghcr.io/o/r:latest"] };
    expect(renderMarkdown(published)).toContain(
      "### Published\n\n- `ghcr.io/o/r:1.2.3`\n- `ghcr.io/o/r:latest`\n",
    );
  });
});

describe("renderTerminalSummary", () => {
  it("lines up the columns of the checks table", () => {
    const text = renderTerminalSummary(sampleReport(), [
      { name: "build", status: "passed", durationMs: 61_000 },
    ]);
    const lines = text.split("\n");
    expect(lines[0]).toBe(
      "PIPELINE FAILED  todo-mcp:dev  sha256:7cb6f406ea18dd15fd6bc29f23646e28f63cce9e29390a41f8e97c32e8c6ee07  134.2 MB",
    );
    expect(lines.slice(2, 6)).toEqual([
      "STATUS  CHECK            TIME  SUMMARY",
      "PASS    non-root       420 ms  runs as 1000:1000",
      "FAIL    trivy          12.3 s  found 1 secret (1 HIGH)",
      "SKIP    compose-smoke    0 ms  skipped: an earlier gate | failed",
    ]);
    expect(text).toContain("STAGE  STATUS  TIME\nbuild  passed  1 m 01 s\n");
    expect(text).toContain("Published: nothing");
    expect(text).not.toContain("\u001b[");
  });

  it("colours status words only when asked to", () => {
    const text = renderTerminalSummary(sampleReport(), undefined, { color: true });
    expect(text).toContain("\u001b[31mPIPELINE FAILED\u001b[0m");
    expect(text).toContain("\u001b[32mPASS  \u001b[0m");
  });
});

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
    expect(Object.keys(json)).toEqual(["ok", "image", "checks", "published"]);
    expect(json).toEqual(report);
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
      expect(await appendStepSummary("## ours", { GITHUB_STEP_SUMMARY: file })).toBe(true);
      expect(await readFile(file, "utf8")).toBe("# earlier step\n## ours\n");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("does nothing outside GitHub Actions", async () => {
    expect(await appendStepSummary("## ours", {})).toBe(false);
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0 ms"],
    [999, "999 ms"],
    [1000, "1.0 s"],
    [59_940, "59.9 s"],
    [125_000, "2 m 05 s"],
  ])("formats %d ms as %s", (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });
});
