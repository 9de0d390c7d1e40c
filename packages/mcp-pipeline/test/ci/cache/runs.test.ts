import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lookupRun, storeRun } from "../../../src/ci/cache/runs.js";
import { key, report, reportDir } from "./fixtures.js";

// Records of runs that hold no images, so Docker is never asked; runs.e2e.test.ts covers the
// image checks against a real Docker.

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "replay-record-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("storeRun and lookupRun", () => {
  it("keeps no run that did not pass", async () => {
    storeRun({
      dir: root,
      key: key("b"),
      from: { run: "r", at: "t" },
      report: report(false),
      images: [],
      reportDir: reportDir(root, "first"),
    });
    expect(await lookupRun({ dir: root, key: key("b"), reportDir: join(root, "x") })).toEqual({
      miss: "no run of this image has passed here yet",
    });
    // Control: the same run, passed, is kept.
    storeRun({
      dir: root,
      key: key("b"),
      from: { run: "r", at: "t" },
      report: report(true),
      images: [],
      reportDir: reportDir(root, "first"),
    });
    expect(
      await lookupRun({ dir: root, key: key("b"), reportDir: join(root, "x") }),
    ).toHaveProperty("record");
  });

  it("leaves a kept run alone when a later run of the same key fails", async () => {
    const store = (ok: boolean, run: string) =>
      storeRun({
        dir: root,
        key: key("h"),
        from: { run, at: "t" },
        report: report(ok),
        images: [],
        reportDir: reportDir(root, `report-${run}`),
      });
    store(true, "passed");
    store(false, "failed");
    const found = await lookupRun({ dir: root, key: key("h"), reportDir: join(root, "x") });
    expect("record" in found && found.record.from.run).toBe("passed");
    expect(readdirSync(join(root, "runs"))).toEqual([key("h").key]);
  });

  it("misses when a kept file has gone", async () => {
    storeRun({
      dir: root,
      key: key("c"),
      from: { run: "r", at: "t" },
      report: report(),
      images: [],
      reportDir: reportDir(root, "first"),
    });
    rmSync(join(root, "runs", key("c").key, "files", "sbom.cdx.json"));
    expect(await lookupRun({ dir: root, key: key("c"), reportDir: join(root, "x") })).toEqual({
      miss: "its sbom.cdx.json is gone",
    });
  });

  it("says what changed since the latest kept run of the same image", async () => {
    const parts = (image: string, context: string, trivy: number) => ({
      stage: "verify",
      config: { image: { name: image } },
      build: { context, dockerfile: "FROM x" },
      checks: { trivy: [trivy] },
    });
    const keep = (name: string, run: string, p: Record<string, unknown>) =>
      storeRun({
        dir: root,
        key: key(name, p),
        from: { run, at: "t" },
        report: report(),
        images: [],
        reportDir: reportDir(root, "first"),
      });
    keep("d", "local-7", parts("app", "1", 1));
    await new Promise((resolve) => setTimeout(resolve, 15));
    // Newer, but of another image: not what a run of `app` is compared with.
    keep("f", "local-8", parts("other", "9", 9));
    expect(
      await lookupRun({
        dir: root,
        key: key("e", parts("app", "2", 2)),
        reportDir: join(root, "x"),
      }),
    ).toEqual({ miss: "since local-7, changed: build.context, checks.trivy" });
    expect(
      await lookupRun({
        dir: root,
        key: key("g", parts("new", "1", 1)),
        reportDir: join(root, "x"),
      }),
    ).toEqual({ miss: "no run of this image has passed here yet" });
  });

  it("keeps the ten newest runs", async () => {
    for (const name of "0123456789ab") {
      storeRun({
        dir: root,
        key: key(name),
        from: { run: name, at: "t" },
        report: report(),
        images: [],
        reportDir: reportDir(root, "first"),
      });
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    const kept = async (name: string) =>
      "record" in (await lookupRun({ dir: root, key: key(name), reportDir: join(root, "x") }));
    expect(await kept("0")).toBe(false);
    expect(await kept("1")).toBe(false);
    expect(await kept("2")).toBe(true);
    expect(await kept("b")).toBe(true);
  });
});
