import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ResultCache } from "../../../src/ci/cache/results.js";
import type { Check, CheckResult } from "../../../src/ci/checks/check.js";
import { Config } from "../../../src/ci/config/schema.js";
import { mergePlatforms, verify } from "../../../src/ci/stages/verify.js";

const result = (status: CheckResult["status"], summary: string, durationMs = 100): CheckResult => ({
  id: "size-budget",
  status,
  summary,
  details: [`${summary} detail`],
  durationMs,
});

describe("mergePlatforms", () => {
  it("returns a single platform's result as it is", () => {
    const only = result("passed", "fine");
    expect(mergePlatforms([{ platform: "linux/amd64", result: only }])).toBe(only);
  });

  it("fails when one platform fails, naming only the failing platform in the summary", () => {
    const merged = mergePlatforms([
      { platform: "linux/amd64", result: result("passed", "133.7 MB of 150 MB", 200) },
      {
        platform: "linux/arm64",
        result: result("failed", "160.1 MB is over the 150 MB budget", 300),
      },
    ]);
    expect(merged.status).toBe("failed");
    expect(merged.summary).toBe("linux/arm64: 160.1 MB is over the 150 MB budget");
    expect(merged.details).toEqual([
      "[linux/amd64] passed: 133.7 MB of 150 MB",
      "  133.7 MB of 150 MB detail",
      "[linux/arm64] failed: 160.1 MB is over the 150 MB budget",
      "  160.1 MB is over the 150 MB budget detail",
    ]);
    expect(merged.durationMs).toBe(300);
  });

  it("passes when every platform passed or skipped, and names each", () => {
    const merged = mergePlatforms([
      { platform: "linux/amd64", result: result("passed", "healthy") },
      { platform: "linux/arm64", result: result("skipped", "cannot run here") },
    ]);
    expect(merged.status).toBe("passed");
    expect(merged.summary).toBe("linux/amd64: healthy; linux/arm64: cannot run here");
  });

  it("is skipped only when every platform was", () => {
    const merged = mergePlatforms([
      { platform: "linux/amd64", result: result("skipped", "a") },
      { platform: "linux/arm64", result: result("skipped", "b") },
    ]);
    expect(merged.status).toBe("skipped");
  });

  it("is cached only when every platform's result was", () => {
    const cached = { run: "local-1", at: "2026-11-25T00:00:00.000Z" };
    const mixed = mergePlatforms([
      { platform: "linux/amd64", result: { ...result("passed", "a"), cached } },
      { platform: "linux/arm64", result: result("passed", "b") },
    ]);
    expect(mixed.cached).toBeUndefined();
    const all = mergePlatforms([
      { platform: "linux/amd64", result: { ...result("passed", "a"), cached } },
      { platform: "linux/arm64", result: { ...result("passed", "b"), cached } },
    ]);
    expect(all.cached).toEqual(cached);
  });
});

describe("verify with the result cache", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("reuses a check's result for the same image and inputs, and runs it again for a new image", async () => {
    const root = mkdtempSync(join(tmpdir(), "verify-cache-"));
    dirs.push(root);
    let runs = 0;
    const check: Check = {
      id: "scan",
      run: async () => {
        runs += 1;
        return { status: "passed", summary: `run ${runs}`, details: [] };
      },
      cacheKey: async () => ({ db: 1 }),
    };
    const config = Config.parse({ image: { name: "verify-cache" } });
    const context = (imageId: string) => ({
      platform: "linux/amd64",
      native: true,
      runnable: { ok: true } as const,
      image: "verify-cache:pipeline",
      tarball: "",
      facts: { id: imageId, sizeBytes: 1, compressedBytes: 1, layers: [] },
      config: { ...config, image: { ...config.image, name: "verify-cache" } },
      cwd: root,
      runEnv: {},
      offline: true,
      ci: false,
      release: undefined,
    });
    const run = (imageId: string) =>
      verify([context(imageId)], {
        skip: [],
        checks: [check],
        cache: {
          results: new ResultCache({
            dir: join(root, "results"),
            stamp: { run: `run-${imageId}`, at: "2026-12-01T00:00:00.000Z" },
            read: true,
            reportDir: join(root, "report"),
          }),
          pipeline: "code-1",
        },
      });
    const [first] = await run("sha256:aaa");
    const [again] = await run("sha256:aaa");
    expect(first?.summary).toBe("run 1");
    expect(again).toMatchObject({ summary: "run 1", cached: { run: "run-sha256:aaa" } });
    const [rebuilt] = await run("sha256:bbb");
    expect(rebuilt?.summary).toBe("run 2");
    expect(rebuilt?.cached).toBeUndefined();
  });
});
