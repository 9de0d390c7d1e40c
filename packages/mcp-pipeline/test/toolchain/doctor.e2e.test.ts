import { mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { paths, runEntry } from "./helpers.js";

const REQUIRED = [
  "docker",
  "docker-group",
  "buildkit",
  "compose",
  "buildx",
  "cosign",
  "trivy",
  "actionlint",
  "dagger-cli",
  "dagger-engine",
  "registry",
  "base-images",
];

interface Report {
  ok: boolean;
  mode: string;
  components: { name: string; ok: boolean; version: string | null; detail: string }[];
  provenance: { tool: string; source: string; sha256: string }[];
}

function parseSingleJson(stdout: string): Report {
  const lines = stdout.trim().split("\n");
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0] ?? "") as Report;
}

describe("npm run doctor", () => {
  const hidden = mkdtempSync(join(tmpdir(), "doctor-bin-"));
  afterAll(() => rmSync(hidden, { recursive: true, force: true }));

  it("reports every component usable after setup, as exactly one JSON object", async () => {
    const res = await runEntry(["doctor", "--json"]);
    const report = parseSingleJson(res.stdout);
    const failing = report.components.filter((c) => !c.ok);
    expect(failing, JSON.stringify(failing, null, 2)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(res.exitCode).toBe(0);
    expect(["airgap", "online"]).toContain(report.mode);
    expect(report.components.map((c) => c.name)).toEqual(expect.arrayContaining(REQUIRED));
    for (const c of report.components)
      expect(Object.keys(c).sort()).toEqual(["detail", "name", "ok", "version"]);
    expect(Object.keys(report).sort()).toEqual(["components", "mode", "ok", "provenance"]);
    for (const p of report.provenance) {
      expect(["release", "go-build", "bundle", "debian-archive"]).toContain(p.source);
      expect(p.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it("fails with a fixing hint when trivy is missing from the toolchain", async () => {
    // The same binaries, minus trivy, and a PATH that does not lead to the real one.
    for (const name of readdirSync(paths.bin)) {
      if (name !== "trivy") symlinkSync(join(paths.bin, name), join(hidden, name));
    }
    const res = await runEntry(["doctor", "--json"], {
      MCP_PIPELINE_BIN: hidden,
      PATH: "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
    });
    const report = parseSingleJson(res.stdout);
    expect(res.exitCode).toBe(1);
    expect(report.ok).toBe(false);
    const trivy = report.components.find((c) => c.name === "trivy");
    expect(trivy?.ok).toBe(false);
    expect(trivy?.detail).toMatch(/mcp-pipeline setup/);
    expect(report.components.filter((c) => !c.ok).map((c) => c.name)).toEqual(["trivy"]);
  });

  it("prints a table for people", async () => {
    const res = await runEntry(["doctor"]);
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toMatch(/^mode: (airgap|online)$/m);
    expect(res.stdout).toMatch(/^ok\s+dagger-engine\s+v\d/m);
  });
});
