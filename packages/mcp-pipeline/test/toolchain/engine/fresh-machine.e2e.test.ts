import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { installCurrentEngine } from "../../../src/toolchain/engine/install.js";
import { canBeRoot } from "../../../src/toolchain/privilege.js";
import { loadSettings, toolchainPaths } from "../../../src/toolchain/settings.js";
import { currentEngine } from "../../../src/toolchain/versions.js";
import { REPO_ROOT } from "../../paths.js";

// A machine with no Docker engine, stood in for by a privileged Debian 12 container on the
// machine's engine (its own network namespace, its own /var/lib/docker from a temp dir): setup's
// docker-engine step with MCP_PIPELINE_ENGINE=current must install and start Docker 28 there.
// The engine's binaries are installed on the host first (the archive and the Go build are
// proved in current-engine.e2e.test.ts) and the cache is handed to the container.
const root = mkdtempSync(join(tmpdir(), "fresh-machine-engine-e2e-"));
const name = `mcp-pipeline-fresh-machine-${randomBytes(4).toString("hex")}`;
const machine = { ...process.env };
delete machine.DOCKER_HOST;
afterAll(async () => {
  await execa("docker", ["rm", "-f", name], { env: machine, reject: false });
  // The container wrote the cache as its root: a non-root user (a hosted runner's) removes it
  // through sudo, as it may.
  if (process.getuid?.() === 0) rmSync(root, { recursive: true, force: true });
  else await execa("sudo", ["-n", "rm", "-rf", root]);
}, 120_000);

describe("MCP_PIPELINE_ENGINE=current on a machine without an engine", () => {
  it("installs Docker 28 into the cache and starts it, with its own containerd and runc", async () => {
    const cache = join(root, "cache");
    const env: NodeJS.ProcessEnv = { ...process.env, MCP_PIPELINE_CACHE: cache };
    delete env.MCP_PIPELINE_BIN;
    const paths = toolchainPaths(env);
    await installCurrentEngine(
      {
        paths,
        settings: loadSettings(env),
        env,
        logFile: join(root, "install.log"),
        note: () => {},
      },
      // runc's build needs libseccomp-dev: installed with apt as setup does (root, or sudo on a
      // hosted runner), so a machine that never had it passes too.
      { canApt: await canBeRoot(env) },
    );
    const varLibDocker = join(root, "var-lib-docker");
    mkdirSync(varLibDocker);
    const node = dirname(dirname(process.execPath));
    const result = await execa(
      "docker",
      [
        "run",
        "--rm",
        "--name",
        name,
        "--privileged",
        "-v",
        `${REPO_ROOT}:${REPO_ROOT}:ro`,
        "-v",
        `${node}:/opt/node:ro`,
        "-v",
        `${cache}:/cache`,
        "-v",
        `${varLibDocker}:/var/lib/docker`,
        "-e",
        "MCP_PIPELINE_CACHE=/cache",
        "-e",
        "MCP_PIPELINE_ENGINE=current",
        "-e",
        "AIRGAP=1",
        "-e",
        "HOME=/root",
        "-e",
        "PATH=/opt/node/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "-w",
        REPO_ROOT,
        "debian:bookworm-slim",
        join(REPO_ROOT, "node_modules/.bin/tsx"),
        join(REPO_ROOT, "packages/mcp-pipeline/test/toolchain/fixtures/engine-opt-in.ts"),
      ],
      { env: machine, reject: false, all: true, timeout: 480_000 },
    );
    const lines = String(result.all ?? "")
      .trim()
      .split("\n");
    process.stderr.write(`fresh machine:\n  ${lines.slice(-8).join("\n  ")}\n`);
    expect(result.exitCode, String(result.all)).toBe(0);
    const report = JSON.parse(lines.at(-1) ?? "{}") as {
      steps: { id: string; status: string }[];
      server: { Version: string; Components: { Name: string; Version: string }[] };
      cli: string;
    };
    expect(report.steps).toEqual([{ id: "docker-engine", status: "done", ms: expect.any(Number) }]);
    expect(report.server.Version).toContain(currentEngine.docker);
    const components = Object.fromEntries(report.server.Components.map((c) => [c.Name, c.Version]));
    expect(components.containerd).toContain(currentEngine.containerd);
    // runc-bounded where the machine's bounding set lacks capabilities (here), runc elsewhere: either
    // way the engine's own runc answers, not a machine's.
    expect(components.runc ?? components["runc-bounded"]).toBe(currentEngine.runc);
    expect(components["docker-init"]).toBe(currentEngine.tini);
    // The only docker CLI in that machine is the engine's, found last on the toolchain's PATH.
    expect(report.cli).toBe(join("/cache", "engine", currentEngine.docker, "bin", "docker"));
    // The container is gone, and with it everything the engine inside it started and mounted.
    const left = await execa("docker", ["ps", "-aq", "--filter", `name=${name}`], { env: machine });
    expect(left.stdout.trim()).toBe("");
    const mounts = readFileSync("/proc/self/mountinfo", "utf8");
    expect(mounts).not.toContain(root);
  }, 600_000);
});
