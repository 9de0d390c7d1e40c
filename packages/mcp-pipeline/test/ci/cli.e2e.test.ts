import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execaSync } from "execa";
import { describe, expect, it } from "vitest";
import { tryDocker } from "../../src/ci/docker/docker.js";
import { controlRunContext, env, runEntry } from "../toolchain/helpers.js";
import {
  auth,
  configVariant,
  contextVariant,
  registryTags,
  runPipeline,
  scratchDir,
  skipAllBut,
} from "./pipeline-harness.js";

// On the default branch's git context, whatever the checkout: a pull request's detached merge
// commit (a hosted runner's checkout) is not published, so it would never ask for a password.
const pipeline = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
  runEntry(["pipeline", ...args], { ...env, ...(await controlRunContext()), ...extraEnv });

describe("npm run pipeline: bad input gets a clear error and exit code 2", () => {
  it("documents every option in --help", async () => {
    const res = await pipeline(["--help"]);
    expect(res.exitCode).toBe(0);
    for (const flag of [
      "--config",
      "--size-budget",
      "--severity",
      "--registry",
      "--repository",
      "--tag",
      "--no-publish",
      "--no-cache",
      "--no-sign",
      "--skip",
      "--report-dir",
    ]) {
      expect(res.stdout).toContain(flag);
    }
    expect(res.stdout).toMatch(/Exit codes: 0 all gates passed, 1 a gate failed or the image/);
    expect(res.stdout).toMatch(/2 bad configuration or environment/);
  });

  it("names the field and what was expected for a bad value", async () => {
    const res = await pipeline(["verify", "--size-budget", "abc"]);
    expect(res.exitCode).toBe(2);
    expect(res.all).toMatch(/sizeBudget\.uncompressedMB: expected a positive number/);
  });

  it("rejects an unknown stage", async () => {
    const res = await pipeline(["deploy"]);
    expect(res.exitCode).toBe(2);
    expect(res.all).toMatch(/unknown stage "deploy"/);
  });

  it("says which secret is missing before building anything", async () => {
    const res = await pipeline([], {
      REGISTRY: "registry.example.test",
      REGISTRY_USERNAME: "someone",
      REGISTRY_PASSWORD: "",
      GITHUB_TOKEN: "",
    });
    expect(res.exitCode).toBe(2);
    expect(res.all).toMatch(/needs a password: set REGISTRY_PASSWORD/);
    expect(res.all).not.toMatch(/\[build\]/);
  });

  it("says which compose service is missing before building anything", async () => {
    const res = await pipeline(
      configVariant("no-compose-service", (doc) => doc.deleteIn(["compose", "service"])),
    );
    expect(res.exitCode, res.all?.slice(-2000)).toBe(2);
    expect(res.all).toMatch(
      /compose\.service: expected the service in docker-compose\.yml that runs the built image, got nothing/,
    );
    expect(res.all).not.toMatch(/\[build\]/);
  });

  it("reports a registry that refuses the login, without printing the password", async () => {
    expect(auth).toBeDefined();
    const wrong = "definitely-not-the-password-7f3a";
    const res = await pipeline(
      [
        ...skipAllBut(),
        "--repository",
        `${auth?.address}/refused-login`,
        "--username",
        auth?.username ?? "",
        "--report-dir",
        scratchDir("refused-login-report"),
      ],
      { REGISTRY_PASSWORD: wrong },
    );
    expect(res.exitCode, res.all?.slice(-2000)).toBe(2);
    expect(res.all).toMatch(/publishing to .*refused-login failed/);
    expect(res.all).toMatch(/REGISTRY_PASSWORD/);
    expect(res.all).not.toContain(wrong);
  });
});

/**
 * A directory holding a docker CLI that fails `docker <subcommand>` (exit 7,
 * `message` on stderr) and hands everything else to the real one: put it first on PATH.
 */
function dockerFailing(subcommand: string, message: string): string {
  const bin = mkdtempSync(join(tmpdir(), "pipeline-bin-"));
  const real = execaSync("which", ["docker"], { env }).stdout.trim();
  writeFileSync(
    join(bin, "docker"),
    `#!/bin/sh\nif [ "$1" = ${subcommand} ]; then echo "${message}" >&2; exit 7; fi\nexec ${real} "$@"\n`,
    { mode: 0o755 },
  );
  return bin;
}

describe("npm run pipeline: failures that are not bad input", () => {
  it("exits 1 for a Dockerfile that does not build, with the failing step's command and output", async () => {
    const run = await runPipeline(
      contextVariant("broken-build", (t) =>
        t.replace(
          "RUN npm run build \\",
          'RUN echo "bundling went wrong on purpose" >&2 && exit 3\nRUN npm run build \\',
        ),
      ),
    );
    expect(run.exitCode, run.output.slice(-3000)).toBe(1);
    expect(run.output).toMatch(
      /the image did not build( for linux\/\w+)?: `\/bin\/sh -c echo .*` exited with 3/,
    );
    expect(run.report.error?.kind).toBe("build");
    // The step's own output, taken from Dagger's trace, is in the report too.
    expect(run.report.error?.message).toMatch(/exited with 3\nbundling went wrong on purpose$/);
    expect(run.report.checks).toEqual([]);
    expect(await registryTags(run.repository)).toEqual([]);
  });

  it("loads an image into Docker once: a second run of the same image does not call docker load", async () => {
    // An image no other test builds, and a docker CLI whose `docker load` fails.
    const nonce = randomBytes(6).toString("hex");
    const context = contextVariant(
      `load-once-${nonce}`,
      (t) => `${t}\nLABEL pipeline.test.nonce=${nonce}\n`,
    );
    const bin = dockerFailing("load", "simulated load trouble");
    // A name of its own, so the harness leaves the image in Docker between runs.
    const image = `pipeline-e2e-load-once-${nonce}`;
    const args = [...context, ...skipAllBut(), "--no-publish", "--no-sign", "--image", image];
    const failingLoad = { PATH: `${bin}:${env.PATH}`, PIPELINE_PLATFORMS: "linux/amd64" };
    try {
      // Control: Docker does not have the image yet, so the run reaches `docker load`.
      const first = await runPipeline(args, failingLoad);
      expect(first.exitCode, first.output.slice(-3000)).toBe(1);
      expect(first.output).toMatch(/docker load.* failed/);
      const loaded = await runPipeline(args, { PIPELINE_PLATFORMS: "linux/amd64" });
      expect(loaded.exitCode, loaded.output.slice(-3000)).toBe(0);
      // --no-cache: the same run would otherwise be replayed, and never reach the build.
      const again = await runPipeline([...args, "--no-cache"], failingLoad);
      expect(again.exitCode, again.output.slice(-3000)).toBe(0);
      expect(again.report.image.sizeBytes).toBe(loaded.report.image.sizeBytes);
    } finally {
      await tryDocker(["image", "rm", `${image}:pipeline`]);
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it("replays a run with nothing changed since it passed, without starting Dagger", async () => {
    const nonce = randomBytes(6).toString("hex");
    const context = contextVariant(
      `replay-${nonce}`,
      (t) => `${t}\nLABEL pipeline.test.nonce=${nonce}\n`,
    );
    const image = `pipeline-e2e-replay-${nonce}`;
    const args = [
      ...context,
      ...skipAllBut("non-root", "size-budget"),
      "--no-publish",
      "--image",
      image,
    ];
    const amd64 = { PIPELINE_PLATFORMS: "linux/amd64" };
    try {
      const first = await runPipeline(args, amd64);
      expect(first.exitCode, first.output.slice(-3000)).toBe(0);
      expect(first.report.replayed).toBeUndefined();
      expect(first.output).toContain("[build]");

      const second = await runPipeline(args, amd64);
      expect(second.exitCode, second.output.slice(-3000)).toBe(0);
      const from = second.report.replayed;
      expect(from?.run).toMatch(/^local-/);
      expect(second.output).toContain(
        `nothing changed since ${from?.run}: its results are replayed`,
      );
      // No build, no Dagger: only the replay's own stage.
      expect(second.output).not.toContain("[build]");
      expect(second.output).toMatch(/^replay +from local-/m);
      expect(second.report.image).toEqual(first.report.image);
      // Every result is the first run's, marked as coming from it.
      expect(second.report.checks.map((c) => [c.id, c.status, c.summary, c.cached?.run])).toEqual(
        first.report.checks.map((c) => [c.id, c.status, c.summary, from?.run]),
      );

      // Controls: the same run with --no-cache, and with one input changed, build again.
      const uncached = await runPipeline([...args, "--no-cache"], amd64);
      expect(uncached.exitCode, uncached.output.slice(-3000)).toBe(0);
      expect(uncached.report.replayed).toBeUndefined();
      expect(uncached.output).toContain("[build]");
      // …and a --no-cache run that passed is kept: the next run replays it.
      const afterUncached = await runPipeline(args, amd64);
      expect(afterUncached.report.replayed?.run).not.toBe(from?.run);
      expect(afterUncached.output).not.toContain("[build]");
      const changed = await runPipeline([...args, "--size-budget", "149"], amd64);
      expect(changed.exitCode, changed.output.slice(-3000)).toBe(0);
      expect(changed.report.replayed).toBeUndefined();
      expect(changed.output).toMatch(
        /not replayed: since local-\S+, changed: config\.sizeBudget, checks\.size-budget/,
      );
      expect(changed.output).toContain("[build]");
    } finally {
      await tryDocker(["image", "rm", `${image}:pipeline`]);
    }
  });

  it("reports an unexpected failure in one line, with the whole error in error.log", async () => {
    // A docker CLI that fails only `docker tag` (every run tags the image it
    // checks, whether or not Docker had it already), ahead of the real one on PATH.
    const bin = dockerFailing("tag", "simulated daemon trouble");
    try {
      const run = await runPipeline(skipAllBut(), { PATH: `${bin}:${env.PATH}` });
      expect(run.exitCode, run.output.slice(-3000)).toBe(1);
      expect(run.output).toMatch(/pipeline: unexpected error: .*docker tag.* failed/);
      expect(run.output).toMatch(/the full error is in .*error\.log/);
      expect(run.output).not.toMatch(/^\s+at /m);
      expect(run.report.error?.kind).toBe("internal");
      const log = readFileSync(join(run.reportDir, "error.log"), "utf8");
      expect(log).toContain("simulated daemon trouble");
      expect(log).toMatch(/^\s+at /m);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
