import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { renderTerminalSummary } from "../../../src/ci/report/terminal.js";
import { sampleReport } from "./sample.js";

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
      "STATUS  CHECK           TIME  SUMMARY",
      "PASS    non-root       420ms  runs as 1000:1000",
      "FAIL    trivy          12.3s  found 1 secret (1 HIGH)",
      "SKIP    compose-smoke    0ms  skipped: an earlier gate | failed",
    ]);
    expect(text).toContain("STAGE  STATUS   TIME\nbuild  passed  1m 1s\n");
    expect(text).toContain("Published: nothing");
    expect(text).not.toContain("\u001b[");
  });

  it("colours status words on a colour terminal", () => {
    const saved = process.env.NO_COLOR;
    delete process.env.NO_COLOR;
    const stream = Object.assign(new PassThrough(), {
      isTTY: true,
      getColorDepth: () => 8,
      hasColors: () => true,
    }) as unknown as NodeJS.WriteStream;
    try {
      const text = renderTerminalSummary(sampleReport(), undefined, stream);
      expect(text).toContain("\u001b[31mPIPELINE FAILED\u001b[39m");
      expect(text).toContain("\u001b[32mPASS  \u001b[39m");
    } finally {
      if (saved !== undefined) process.env.NO_COLOR = saved;
    }
  });

  it("names what stopped the run under the verdict", () => {
    const report = {
      ...sampleReport(),
      checks: [],
      error: { kind: "build" as const, message: "the image did not build: `npm ci` exited with 1" },
    };
    const lines = renderTerminalSummary(report).split("\n");
    expect(lines[1]).toBe("build error: the image did not build: `npm ci` exited with 1");
  });
});
