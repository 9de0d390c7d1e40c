import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  codeFingerprint,
  fileHash,
  pipelineFingerprint,
  ResultCache,
  resultKey,
} from "../../../src/ci/cache/results.js";
import type { CheckResult } from "../../../src/ci/checks/check.js";

/** Result keys are sha256 digests, as resultKey makes them. */
const K = "a".repeat(64);
const OTHER = "b".repeat(64);

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "result-cache-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const result = (status: CheckResult["status"]): CheckResult => ({
  id: "trivy",
  status,
  summary: `${status} summary`,
  details: ["a detail"],
  durationMs: 1234,
});

function cache(read = true, reportDir = join(root, "report")) {
  return new ResultCache({
    dir: join(root, "results"),
    stamp: { run: "local-1", at: "2026-11-25T00:00:00.000Z" },
    read,
    reportDir,
  });
}

describe("ResultCache", () => {
  it("gives back a passed result marked with the run it came from", () => {
    cache().store(K, result("passed"));
    expect(cache().lookup(K)).toEqual({
      ...result("passed"),
      cached: { run: "local-1", at: "2026-11-25T00:00:00.000Z" },
    });
  });

  it("never keeps a failed result", () => {
    cache().store(K, result("failed"));
    expect(cache().lookup(K)).toBeUndefined();
  });

  it("keeps a result the check itself skipped", () => {
    cache().store(K, result("skipped"));
    expect(cache().lookup(K)?.status).toBe("skipped");
  });

  it("reads nothing with --no-cache, but still keeps fresh results", () => {
    cache(false).store(K, result("passed"));
    expect(cache(false).lookup(K)).toBeUndefined();
    expect(cache(true).lookup(K)?.status).toBe("passed");
  });

  it("misses on another key", () => {
    cache().store(K, result("passed"));
    expect(cache().lookup(OTHER)).toBeUndefined();
  });

  it("restores the files a result wrote into this run's report directory", () => {
    const first = join(root, "report-1");
    mkdirSync(first);
    writeFileSync(join(first, "trivy.sarif"), "sarif!");
    cache(true, first).store(K, result("passed"), [join(first, "trivy.sarif")]);
    const second = join(root, "report-2");
    expect(cache(true, second).lookup(K)?.status).toBe("passed");
    expect(readFileSync(join(second, "trivy.sarif"), "utf8")).toBe("sarif!");
  });

  it("does not keep a result whose files live outside the report directory", () => {
    writeFileSync(join(root, "elsewhere.json"), "{}");
    cache().store(K, result("passed"), [join(root, "elsewhere.json")]);
    expect(cache().lookup(K)).toBeUndefined();
  });

  it("misses, rather than half-restores, when a kept file has gone", () => {
    const dir = join(root, "report");
    mkdirSync(dir);
    writeFileSync(join(dir, "sbom.cdx.json"), "{}");
    cache().store(K, result("passed"), [join(dir, "sbom.cdx.json")]);
    rmSync(join(root, "results", K, "files"), { recursive: true });
    expect(cache().lookup(K)).toBeUndefined();
  });
});

describe("cache keys", () => {
  it("change with any of the check, the image, the pipeline's code or the inputs", () => {
    const base = { check: "trivy", image: "sha256:1", pipeline: "p", inputs: { a: 1 } };
    const key = resultKey(base);
    expect(resultKey({ ...base })).toBe(key);
    for (const changed of [
      { ...base, check: "non-root" },
      { ...base, image: "sha256:2" },
      { ...base, pipeline: "q" },
      { ...base, inputs: { a: 2 } },
    ])
      expect(resultKey(changed)).not.toBe(key);
  });

  it("fingerprint the pipeline's code by each source file's path and content", () => {
    const code = join(root, "code");
    mkdirSync(join(code, "checks"), { recursive: true });
    writeFileSync(join(code, "checks", "gate.ts"), "export const limit = 1;\n");
    writeFileSync(join(code, "notes.md"), "not code");
    const before = pipelineFingerprint(code);
    expect(pipelineFingerprint(code)).toBe(before);
    writeFileSync(join(code, "notes.md"), "still not code");
    expect(pipelineFingerprint(code)).toBe(before);
    // A fix to a gate's code must re-run the gate, not reuse its old verdict.
    writeFileSync(join(code, "checks", "gate.ts"), "export const limit = 2;\n");
    const edited = pipelineFingerprint(code);
    expect(edited).not.toBe(before);
    writeFileSync(join(code, "checks", "other.ts"), "");
    expect(pipelineFingerprint(code)).not.toBe(edited);
  });

  it("fingerprint the pipeline's own code, and files by content", () => {
    expect(codeFingerprint()).toMatch(/^[0-9a-f]{64}$/);
    const file = join(root, "f");
    expect(fileHash(file)).toBe("absent");
    writeFileSync(file, "one");
    const one = fileHash(file);
    writeFileSync(file, "two");
    expect(fileHash(file)).not.toBe(one);
    expect(existsSync(file)).toBe(true);
  });
});
