import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { lookupRun, storeRun } from "../../../src/ci/cache/runs.js";
import { docker, tryDocker } from "../../../src/ci/docker/docker.js";
import { key, report, reportDir } from "./fixtures.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "replay-record-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const made: string[] = [];
afterAll(async () => {
  for (const ref of made) await tryDocker(["image", "rm", "-f", ref]);
});

/** A tiny image of its own (an empty file system with a unique label), tagged `ref`; its id. */
async function image(ref: string): Promise<string> {
  await execa(
    "docker",
    ["import", "-c", `LABEL unique=${randomBytes(6).toString("hex")}`, "-", ref],
    {
      input: Buffer.alloc(1024),
    },
  );
  made.push(ref);
  return (await docker(["image", "inspect", "--format", "{{.Id}}", ref])).trim();
}

describe("storeRun and lookupRun against Docker's image ids", () => {
  it("give back a passed run, its files restored, while Docker still has its image", async () => {
    const ref = `replay-record-${randomBytes(3).toString("hex")}:pipeline`;
    const id = await image(ref);
    const from = { run: "local-1", at: "2026-11-26T00:00:00.000Z" };
    storeRun({
      dir: root,
      key: key("a"),
      from,
      report: report(),
      images: [{ ref, id }],
      reportDir: reportDir(root, "first"),
    });

    const fresh = join(root, "second");
    const found = await lookupRun({ dir: root, key: key("a"), reportDir: fresh });
    expect(found).toMatchObject({ record: { from, report: report(), images: [{ ref, id }] } });
    expect(readFileSync(join(fresh, "sbom.cdx.json"), "utf8")).toBe('{"sbom":1}');
    expect(readFileSync(join(fresh, "sarif", "trivy.sarif"), "utf8")).toBe('{"sarif":1}');
    // The report itself is written afresh by the replay, never copied.
    expect(existsSync(join(fresh, "report.json"))).toBe(false);
  });

  it("misses when the image is now another one, or gone", async () => {
    const ref = `replay-record-${randomBytes(3).toString("hex")}:pipeline`;
    const id = await image(ref);
    storeRun({
      dir: root,
      key: key("a"),
      from: { run: "r", at: "t" },
      report: report(),
      images: [{ ref, id }],
      reportDir: reportDir(root, "first"),
    });
    expect(
      await lookupRun({ dir: root, key: key("a"), reportDir: join(root, "x") }),
    ).toHaveProperty("record");

    const other = await image(ref);
    expect(await lookupRun({ dir: root, key: key("a"), reportDir: join(root, "x") })).toEqual({
      miss: `${ref} is now ${other.slice(7, 19)} in Docker`,
    });
    await docker(["image", "rm", "-f", ref]);
    expect(await lookupRun({ dir: root, key: key("a"), reportDir: join(root, "x") })).toEqual({
      miss: `${ref} is gone in Docker`,
    });
  });
});
