import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PipelineReport } from "../../src/ci/report/schema.js";
import { DAGGER_ENGINE_IMAGE } from "../../src/toolchain/dagger-engine-image.js";
import { versions } from "../../src/toolchain/versions.js";
import { env, runEntry } from "./helpers.js";

/** Names of every container the Dagger CLI would have started itself. */
async function cliStartedEngines(): Promise<string[]> {
  const res = await execa("docker", [
    "ps",
    "-a",
    "--filter",
    "name=dagger-engine-",
    "--format",
    "{{.Names}}",
  ]);
  return res.stdout.split("\n").filter(Boolean).sort();
}

describe("the pipeline on a Dagger engine it did not start (_EXPERIMENTAL_DAGGER_RUNNER_HOST)", () => {
  const name = `shared-engine-${randomBytes(4).toString("hex")}`;
  const runnerHost = `docker-container://${name}`;
  const shared = { ...env, _EXPERIMENTAL_DAGGER_RUNNER_HOST: runnerHost };
  const work = mkdtempSync(join(tmpdir(), "shared-engine-"));

  beforeAll(async () => {
    // As a team would run it: privileged, its state on a volume, started by someone else.
    await execa("docker", [
      "run",
      "-d",
      "--privileged",
      "--name",
      name,
      "-v",
      `${name}:/var/lib/dagger`,
      DAGGER_ENGINE_IMAGE,
    ]);
    // Ready when the CLI gets an answer through the runner host (what the Helm chart probes).
    for (let i = 0; i < 120; i++) {
      const probe = await execa("dagger", ["--silent", "core", "version"], {
        env: shared,
        reject: false,
        timeout: 30_000,
      });
      if (probe.exitCode === 0) return;
      await sleep(1000);
    }
    throw new Error(`the engine in ${name} never answered`);
  });

  afterAll(async () => {
    await execa("docker", ["rm", "-fv", name], { reject: false });
    await execa("docker", ["volume", "rm", name], { reject: false });
    rmSync(work, { recursive: true, force: true });
  });

  it("doctor reports the engine at the runner host and its version", async () => {
    const res = await runEntry(["doctor", "--json"], shared);
    const engine = JSON.parse(res.stdout).components.find(
      (c: { name: string }) => c.name === "dagger-engine",
    );
    expect(engine).toEqual({
      name: "dagger-engine",
      ok: true,
      version: `v${versions.dagger}`,
      detail: `shared engine at ${runnerHost}`,
    });
  });

  it("builds and verifies on that engine and starts no engine container of its own", async () => {
    const before = await cliStartedEngines();
    const since = new Date().toISOString();
    const reportDir = join(work, "report");
    const res = await runEntry(
      [
        "pipeline",
        "verify",
        "--no-publish",
        ...["healthcheck", "trivy", "trivy-vulnerabilities", "compose-smoke"].flatMap((c) => [
          "--skip",
          c,
        ]),
        "--report-dir",
        reportDir,
      ],
      shared,
    );
    expect(res.exitCode, res.all?.slice(-3000)).toBe(0);
    const report = JSON.parse(
      readFileSync(join(reportDir, "report.json"), "utf8"),
    ) as PipelineReport;
    const status = Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
    expect(status).toMatchObject({ "non-root": "passed", "size-budget": "passed" });
    expect(await cliStartedEngines()).toEqual(before);
    // The work happened in the shared engine: its log has the session.
    const logs = await execa("docker", ["logs", "--since", since, name], { all: true });
    expect(logs.all).not.toBe("");
  });
});
