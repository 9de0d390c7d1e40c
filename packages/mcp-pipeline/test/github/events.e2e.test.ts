import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { removeRunnerUser } from "./runner.js";
import { describeResult, OUTPUT_PREFIX, type SimOptions, simulate } from "./simulation.js";

// The GitHub simulation as `npm test` (and so `.ci/run`) runs it: each event's workflow under act
// on the simulated ubuntu-24.04 runner, judged as `npm run test:github` judges it (simulation.ts).
// The `test` job's own `npm test` runs as `runner`. CI's 90 minutes hold the whole suite once (as
// root, outside), not twice (docs/testing.md, "In CI"): the pull request's runs the files whose
// outcome has depended on the user, the address or the token the runner has; the other events
// narrow it to one unit file. Either way the job's whole setup (`npm test` sets up before it
// tests) runs as the runner user; `npm run test:github` runs the whole suite.
// Creates the runner user, so it needs root; under the simulation itself (as `runner`) it skips,
// so the simulated `npm test` does not nest.
const asRoot = process.getuid?.() === 0;

/** The narrowed inner suite: one unit file, after the job's whole setup. */
const NARROW = ["packages/mcp-pipeline/test/ci/config/load.test.ts"];
/**
 * The pull request's inner suite: the end-to-end files that failed as `runner` while passing as
 * root (docs/testing.md, "Findings of the first whole run as `runner`"), and the ones that reach
 * Docker, registries and npm as that user. The `check` job runs every unit test as `runner`.
 */
const RUNNER_SUITE = [
  "packages/mcp-pipeline/test/ci/cli.e2e.test.ts",
  "packages/mcp-pipeline/test/ci/publish.e2e.test.ts",
  "packages/mcp-pipeline/test/ci/pipeline.e2e.test.ts",
  "packages/mcp-pipeline/test/ci/sign/pipeline-signing.e2e.test.ts",
  "packages/mcp-pipeline/test/ci/replay/key.e2e.test.ts",
  "packages/mcp-pipeline/test/toolchain/registry-ports.e2e.test.ts",
  "packages/mcp-pipeline/test/toolchain/engine/fresh-machine.e2e.test.ts",
  "packages/mcp-pipeline/test/package/registry.e2e.test.ts",
  "test/container/image.e2e.test.ts",
];
/** Each simulation's bound. */
const HOUR = 3_600_000;

/** Volumes no container uses: what a removed container left behind. */
async function danglingVolumes(): Promise<string[]> {
  const out = await execa("docker", ["volume", "ls", "-q", "--filter", "dangling=true"]);
  return out.stdout.split("\n").filter(Boolean);
}

async function run(opts: Omit<SimOptions, "keep" | "progress">): Promise<string[]> {
  const before = new Set(await danglingVolumes());
  const result = await simulate({
    ...opts,
    keep: false,
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  await removeRunnerUser(result.user);
  const lines = describeResult(result);
  process.stderr.write(
    `${lines.join("\n")}\n${result.ok ? "passed" : "failed"}: ${opts.event}${opts.fork ? " (fork)" : ""} in ${result.seconds.toFixed(0)}s; act log ${result.log}\n`,
  );
  // The jobs' Dagger engines went with their state volumes (1.7 GB each).
  const left = (await danglingVolumes()).filter((v) => !before.has(v));
  expect(left, "volumes the simulation's containers left behind").toEqual([]);
  // Every line names a job (or the run) and, when it failed, the step and what it printed.
  return lines.filter((line) => line.startsWith("FAIL") || line.startsWith(OUTPUT_PREFIX));
}

describe.skipIf(!asRoot)("the workflows under act on the simulated runner", () => {
  it(
    "pull_request: check, npm test's runner-sensitive files as runner, verify; nothing published or signed, SARIF kept",
    async () => {
      // A renamed file would otherwise drop out of the filter unnoticed.
      const root = resolve(import.meta.dirname, "../../../..");
      expect(RUNNER_SUITE.filter((file) => !existsSync(join(root, file)))).toEqual([]);
      expect(
        await run({ event: "pull_request", fork: false, jobs: [], testFilter: RUNNER_SUITE }),
      ).toEqual([]);
    },
    HOUR,
  );

  it(
    "pull_request from a fork: verify with no secrets and a read-only token, no SARIF upload",
    async () => {
      // Only what differs from the pull request above: the verify job (and the check it needs).
      expect(
        await run({ event: "pull_request", fork: true, jobs: ["verify"], testFilter: NARROW }),
      ).toEqual([]);
    },
    HOUR,
  );

  it(
    "push to main: edge and sha-<7> on one digest, signed into the log, the summary once",
    async () => {
      expect(await run({ event: "push", fork: false, jobs: [], testFilter: NARROW })).toEqual([]);
    },
    HOUR,
  );

  it(
    "tag: the semver tags on one digest, signed; the release with its report, SBOM and keys",
    async () => {
      expect(await run({ event: "tag", fork: false, jobs: [], testFilter: NARROW })).toEqual([]);
    },
    HOUR,
  );
});
