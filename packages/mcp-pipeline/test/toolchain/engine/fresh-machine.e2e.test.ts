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

// A machine with no Docker engine, and one with the Docker 20.10 an older setup installed, each
// stood in for by a privileged Debian 12 container on the machine's engine (its own network
// namespace, its own /var/lib/docker from a temp dir): setup's docker-engine step must install
// and start Docker 28 there, upgrading 20.10 in place. The engine's binaries are installed on
// the host first (the archive and the Go build are proved in current-engine.e2e.test.ts) and
// the cache is handed to the container.
const root = mkdtempSync(join(tmpdir(), "fresh-machine-engine-e2e-"));
const names: string[] = [];
const machine = { ...process.env };
delete machine.DOCKER_HOST;
afterAll(async () => {
  for (const name of names)
    await execa("docker", ["rm", "-f", name], { env: machine, reject: false });
  // The container wrote the cache as its root: a non-root user (a hosted runner's) removes it
  // through sudo, as it may.
  if (process.getuid?.() === 0) rmSync(root, { recursive: true, force: true });
  else await execa("sudo", ["-n", "rm", "-rf", root]);
}, 120_000);

interface Report {
  steps: { id: string; status: string }[];
  server: { Version: string; Components: { Name: string; Version: string }[] };
  cli: string;
  debianPackage: string;
  machineDockerd: boolean;
}

const cache = join(root, "cache");

/** The current engine's binaries in the cache handed to the machines (installed once). */
async function engineInCache(): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, MCP_PIPELINE_CACHE: cache };
  delete env.MCP_PIPELINE_BIN;
  await installCurrentEngine(
    {
      paths: toolchainPaths(env),
      settings: loadSettings(env),
      env,
      logFile: join(root, "install.log"),
      note: () => {},
    },
    // runc's build needs libseccomp-dev: installed with apt as setup does (root, or sudo on a
    // hosted runner), so a machine that never had it passes too.
    { canApt: await canBeRoot(env) },
  );
}

/**
 * Runs `prepare` (sh) and then setup's docker-engine step (fixtures/engine-step.ts) in a new
 * privileged Debian 12 container, and returns what the fixture reports.
 */
async function onMachine(label: string, prepare: string): Promise<Report> {
  const name = `mcp-pipeline-${label}-${randomBytes(4).toString("hex")}`;
  names.push(name);
  const varLibDocker = join(root, `var-lib-docker-${label}`);
  mkdirSync(varLibDocker);
  const node = dirname(dirname(process.execPath));
  const fixture = join(REPO_ROOT, "packages/mcp-pipeline/test/toolchain/fixtures/engine-step.ts");
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
      "AIRGAP=1",
      "-e",
      "HOME=/root",
      "-e",
      "PATH=/opt/node/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "-w",
      REPO_ROOT,
      "debian:bookworm-slim",
      "sh",
      "-ec",
      `${prepare}\nexec ${join(REPO_ROOT, "node_modules/.bin/tsx")} ${fixture}`,
    ],
    { env: machine, reject: false, all: true, timeout: 480_000 },
  );
  const lines = String(result.all ?? "")
    .trim()
    .split("\n");
  process.stderr.write(`${label}:\n  ${lines.slice(-8).join("\n  ")}\n`);
  expect(result.exitCode, String(result.all)).toBe(0);
  // The container is gone, and with it everything the engine inside it started and mounted.
  const left = await execa("docker", ["ps", "-aq", "--filter", `name=${name}`], { env: machine });
  expect(left.stdout.trim()).toBe("");
  expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(varLibDocker);
  return JSON.parse(lines.at(-1) ?? "{}") as Report;
}

/** The current engine answers, with its own containerd, runc and docker-init, and its own CLI. */
function expectCurrentEngine(report: Report): void {
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
}

describe("setup's Docker engine on a machine without a current one", () => {
  it("installs Docker 28 into the cache where there is no engine, and starts it, with its own containerd and runc", async () => {
    await engineInCache();
    const report = await onMachine("fresh-machine", "true");
    expectCurrentEngine(report);
    expect(report.debianPackage).toBe("not installed");
  }, 600_000);

  it("upgrades the running Docker 20.10 an older setup installed: stops it, removes docker.io, starts Docker 28", async () => {
    await engineInCache();
    // What setups before Docker 28 left: Debian's docker.io installed, recorded as theirs, running.
    const report = await onMachine(
      "old-setup-machine",
      [
        "apt-get update -q >/dev/null",
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io >/dev/null",
        "mkdir -p /cache/state",
        `echo '["docker.io"]' > /cache/state/installed-packages.json`,
        "docker version >/dev/null 2>&1 || { /usr/sbin/dockerd >/var/log/dockerd-20.log 2>&1 & }",
        "i=0; until docker version --format '{{.Server.Version}}' 2>/dev/null; do i=$((i+1)); [ $i -lt 60 ] || exit 3; sleep 1; done",
      ].join("\n"),
    );
    expectCurrentEngine(report);
    expect(report.debianPackage).not.toContain("install ok installed");
    expect(report.machineDockerd).toBe(false);
  }, 600_000);
});
