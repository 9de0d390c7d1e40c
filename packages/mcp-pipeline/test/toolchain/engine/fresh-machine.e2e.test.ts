import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { installCurrentEngine } from "../../../src/toolchain/engine/install.js";
import { canBeRoot } from "../../../src/toolchain/privilege.js";
import { loadSettings, toolchainPaths } from "../../../src/toolchain/settings.js";
import { currentEngine } from "../../../src/toolchain/versions.js";
import { expectCurrentEngine, type MachineReport, Machines } from "./machine.js";

// A machine with no Docker engine, and one with the Docker 20.10 an older setup installed, each
// stood in for by a privileged Debian 12 container on the machine's engine (machine.ts): setup's
// docker-engine step must install and start Docker 28 there, upgrading 20.10 in place. The
// engine's binaries are installed on the host first (the archive and the Go build are proved in
// current-engine.e2e.test.ts) and the cache is handed to the container. (bundle.e2e.test.ts
// hands one an offline bundle instead.)
const machines = new Machines("fresh-machine-engine-e2e");
const root = machines.root;
afterAll(() => machines.cleanup(), 120_000);

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

function onMachine(label: string, prepare: string): Promise<MachineReport> {
  return machines.run(label, prepare, { cache });
}

/** Only the engine step ran, and the current engine answers. */
function expectEngineStepAlone(report: MachineReport): void {
  expect(report.steps).toEqual([{ id: "docker-engine", status: "done", ms: expect.any(Number) }]);
  expectCurrentEngine(report);
}

describe("setup's Docker engine on a machine without a current one", () => {
  it("installs Docker 28 into the cache where there is no engine, and starts it, with its own containerd and runc", async () => {
    await engineInCache();
    const report = await onMachine("fresh-machine", "true");
    expectEngineStepAlone(report);
    expect(report.debianPackage).toBe("not installed");
  }, 600_000);

  it("gives the docker group the socket of the engine an older setup started without one", async () => {
    await engineInCache();
    // Setups before this one started the cache's dockerd on machines with no docker group, so
    // the socket was root:root and only root reached Docker (a runner's user could not).
    const dockerd = join("/cache", "engine", currentEngine.docker, "bin", "dockerd");
    const report = await onMachine(
      "no-docker-group-machine",
      [
        "! getent group docker",
        `PATH=${dirname(dockerd)}:$PATH ${dockerd} --iptables=false --bridge=none >/var/log/dockerd-old-setup.log 2>&1 &`,
        "i=0; until [ -S /var/run/docker.sock ] && stat -c %G /var/run/docker.sock | grep -qx root; do i=$((i+1)); [ $i -lt 60 ] || exit 3; sleep 1; done",
      ].join("\n"),
    );
    expectEngineStepAlone(report);
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
    expectEngineStepAlone(report);
    expect(report.debianPackage).not.toContain("install ok installed");
    expect(report.machineDockerd).toBe(false);
  }, 600_000);
});
