import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nextFreePort, portOwner } from "../../src/toolchain/ports.js";
import { REGISTRY_PORTS } from "../../src/toolchain/registry-config.js";
import { readRegistries, readRegistryAuth } from "../../src/toolchain/state.js";
import { registryStatus } from "../../src/toolchain/steps/registry.js";
import { Sandbox } from "./sandbox.js";

const TOOLS = ["cosign", "actionlint", "docker-compose", "docker-buildx", "trivy", "dagger"];

/**
 * What Debian/Ubuntu's packaged docker-registry service runs: the same binary
 * with htpasswd auth, here with a throwaway config on `port`.
 */
async function startForeignRegistry(dir: string, port: number) {
  mkdirSync(join(dir, "data"), { recursive: true });
  await execa("htpasswd", ["-c", "-i", "-B", join(dir, "htpasswd"), "someone"], {
    input: "their-password",
  });
  const config = join(dir, "config.yml");
  writeFileSync(
    config,
    `version: 0.1
storage:
  filesystem:
    rootdirectory: ${join(dir, "data")}
http:
  addr: :${port}
auth:
  htpasswd:
    realm: basic-realm
    path: ${join(dir, "htpasswd")}
`,
  );
  const out = openSync(join(dir, "log"), "a");
  const child = spawn("docker-registry", ["serve", config], { stdio: ["ignore", out, out] });
  for (let i = 0; i < 75 && (await registryStatus(port)) !== 401; i++) await sleep(200);
  expect(await registryStatus(port)).toBe(401);
  return { child, config };
}

describe("setup when a registry port is taken by a process that is not this toolchain's", () => {
  const work = mkdtempSync(join(tmpdir(), "registry-ports-"));
  const sandboxes: Sandbox[] = [];
  const foreign: { kill(): boolean }[] = [];

  afterAll(async () => {
    for (const s of sandboxes) await s.cleanup();
    for (const child of foreign) child.kill();
    rmSync(work, { recursive: true, force: true });
  });

  // The tools are already built on this machine; these tests are about the registry step.
  const online = (name: string, env: NodeJS.ProcessEnv = {}) => {
    const s = new Sandbox(name, { AIRGAP: "0", ...env });
    s.linkTools(TOOLS);
    sandboxes.push(s);
    return s;
  };

  it("fails with exit 2 naming the process and the fixes when the port asked for with MCP_PIPELINE_AUTH_PORT is taken", async () => {
    const port = await nextFreePort(15_100, []);
    if (!port) throw new Error("no free port");
    const { child, config } = await startForeignRegistry(join(work, "asked"), port);
    foreign.push(child);
    const s = online("port-asked", { MCP_PIPELINE_AUTH_PORT: String(port) });
    const res = await s.entry(["setup"]);
    expect(res.exitCode, res.all).toBe(2);
    expect(res.stderr).toContain(
      `Port ${port} (MCP_PIPELINE_AUTH_PORT) is taken by pid ${child.pid} (docker-registry serve ${config}), not by this toolchain's auth registry.`,
    );
    expect(res.stderr).toContain(`stop pid ${child.pid}`);
    expect(res.stderr).toContain("unset MCP_PIPELINE_AUTH_PORT so setup picks a free port itself");
    // The other registry was left alone.
    expect(portOwner(port)?.pid).toBe(child.pid);
  });

  describe("on the default port", () => {
    let s: Sandbox;
    let holder: number | undefined;
    beforeAll(async () => {
      // 5001 belongs to another toolchain on this machine (or to the stand-in started here):
      // either way not to this fresh cache's.
      if (!portOwner(REGISTRY_PORTS.auth)) {
        const { child } = await startForeignRegistry(join(work, "default"), REGISTRY_PORTS.auth);
        foreign.push(child);
      }
      holder = portOwner(REGISTRY_PORTS.auth)?.pid;
      s = online("port-default");
    });

    it("moves its registry to a free port, says which process holds the default, and records the new address", async () => {
      const res = await s.entry(["setup"]);
      expect(res.exitCode, res.all).toBe(0);
      const auth = readRegistries(s.paths).auth;
      expect(auth).toBeDefined();
      expect(auth?.port).not.toBe(REGISTRY_PORTS.auth);
      // Another user's process (the machine's root-owned registry, seen by a hosted runner's
      // non-root user) has no pid this user can read: it is named as such.
      const who = holder
        ? `pid ${holder} (`
        : "a process this user cannot see (run `sudo ss -ltnp`";
      expect(res.stderr).toContain(`port ${REGISTRY_PORTS.auth} is taken by ${who}`);
      expect(res.stderr).toContain(`the auth registry uses port ${auth?.port} instead`);
      expect(await registryStatus(auth?.port ?? 0)).toBe(401);
      expect(readRegistryAuth(s.paths)?.address).toBe(`172.17.0.1:${auth?.port}`);
      // The engine config the CLI mounts knows the new address speaks plain HTTP.
      const engineJson = JSON.parse(
        readFileSync(join(s.env.XDG_CONFIG_HOME ?? "", "dagger", "engine.json"), "utf8"),
      );
      expect(engineJson.registries[`172.17.0.1:${auth?.port}`]).toEqual({ http: true });
      // The process on the default port was not touched.
      expect(portOwner(REGISTRY_PORTS.auth)?.pid).toBe(holder);
    });

    it("keeps the moved port on the next run, and doctor is green", async () => {
      const before = readRegistries(s.paths).auth?.port;
      const res = await s.entry(["setup"]);
      expect(res.exitCode, res.all).toBe(0);
      expect(res.stderr).not.toContain("is taken by");
      expect(readRegistries(s.paths).auth?.port).toBe(before);
      const doctor = await s.entry(["doctor", "--json"]);
      const report = JSON.parse(doctor.stdout);
      expect(
        report.components.filter((c: { ok: boolean }) => !c.ok),
        doctor.all,
      ).toEqual([]);
      expect(report.components.find((c: { name: string }) => c.name === "registry").detail).toBe(
        `auth 172.17.0.1:${before}`,
      );
    });
  });
});
