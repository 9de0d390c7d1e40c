import { describe, expect, it } from "vitest";
import type { CheckResult } from "../../../ci/checks/check.js";
import { mergePlatforms } from "../../../ci/stages/verify.js";

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
