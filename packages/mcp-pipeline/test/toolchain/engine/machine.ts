import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { expect } from "vitest";
import { currentEngine } from "../../../src/toolchain/versions.js";
import { REPO_ROOT } from "../../paths.js";

/** What fixtures/engine-step.ts prints: the steps, what answers, and what the machine has. */
export interface MachineReport {
  steps: { id: string; status: string }[];
  server: { Version: string; Components: { Name: string; Version: string }[] };
  cli: string;
  debianPackage: string;
  machineDockerd: boolean;
  /** The socket's `user:group mode`. */
  socket: string;
  /** The server version a non-root user in the docker group got, or why it was refused. */
  nonRoot: string;
}

const machine = { ...process.env };
delete machine.DOCKER_HOST;

/**
 * Machines with no engine of their own (or the Docker 20.10 an older setup installed), each stood
 * in for by a privileged Debian 12 container on the machine's engine: its own network namespace,
 * its own /var/lib/docker from a temp dir, a toolchain cache handed in as /cache.
 */
export class Machines {
  readonly root: string;
  private readonly names: string[] = [];

  constructor(prefix: string) {
    this.root = mkdtempSync(join(tmpdir(), `${prefix}-`));
  }

  /**
   * Runs `prepare` (sh) and then setup's docker-engine step (fixtures/engine-step.ts; with
   * `bundle`, the offline bundle's step before it) on a new machine with `cache` as its toolchain
   * cache, and returns what the fixture reports. `bundle` is mounted read-only at its own path.
   */
  async run(
    label: string,
    prepare: string,
    options: { cache: string; bundle?: string; env?: Record<string, string> },
  ): Promise<MachineReport> {
    const name = `mcp-pipeline-${label}-${randomBytes(4).toString("hex")}`;
    this.names.push(name);
    const varLibDocker = join(this.root, `var-lib-docker-${label}`);
    mkdirSync(varLibDocker);
    mkdirSync(options.cache, { recursive: true });
    const node = dirname(dirname(process.execPath));
    const fixture = join(REPO_ROOT, "packages/mcp-pipeline/test/toolchain/fixtures/engine-step.ts");
    const env = {
      MCP_PIPELINE_CACHE: "/cache",
      AIRGAP: "1",
      HOME: "/root",
      PATH: "/opt/node/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      ...(options.bundle ? { ENGINE_STEP_BUNDLE: options.bundle } : {}),
      ...options.env,
    };
    const mounts = [
      `${REPO_ROOT}:${REPO_ROOT}:ro`,
      `${node}:/opt/node:ro`,
      `${options.cache}:/cache`,
      `${varLibDocker}:/var/lib/docker`,
      ...(options.bundle
        ? [options.bundle, `${options.bundle}.sha256`].map((f) => `${f}:${f}:ro`)
        : []),
    ];
    const result = await execa(
      "docker",
      [
        "run",
        "--rm",
        "--name",
        name,
        "--privileged",
        ...mounts.flatMap((m) => ["-v", m]),
        ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
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
    const left = await execa("docker", ["ps", "-aq", "--filter", `name=${name}`], {
      env: machine,
    });
    expect(left.stdout.trim()).toBe("");
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(varLibDocker);
    return JSON.parse(lines.at(-1) ?? "{}") as MachineReport;
  }

  async cleanup(): Promise<void> {
    for (const name of this.names)
      await execa("docker", ["rm", "-f", name], { env: machine, reject: false });
    // The containers wrote their caches as root: a non-root user (a hosted runner's) removes
    // them through sudo, as it may.
    if (process.getuid?.() === 0) rmSync(this.root, { recursive: true, force: true });
    else await execa("sudo", ["-n", "rm", "-rf", this.root]);
  }
}

/** The current engine answers, with its own containerd, runc and docker-init, and its own CLI. */
export function expectCurrentEngine(report: MachineReport): void {
  expect(report.steps.find((s) => s.id === "docker-engine")?.status).toBe("done");
  expect(report.server.Version).toContain(currentEngine.docker);
  const components = Object.fromEntries(report.server.Components.map((c) => [c.Name, c.Version]));
  expect(components.containerd).toContain(currentEngine.containerd);
  // runc-bounded where the machine's bounding set lacks capabilities (here), runc elsewhere: either
  // way the engine's own runc answers, not a machine's.
  expect(components.runc ?? components["runc-bounded"]).toBe(currentEngine.runc);
  expect(components["docker-init"]).toBe(currentEngine.tini);
  // The only docker CLI in that machine is the engine's, found last on the toolchain's PATH.
  expect(report.cli).toBe(join("/cache", "engine", currentEngine.docker, "bin", "docker"));
  // As on a hosted runner: root:docker 660, and a user in the group reaches the engine without root.
  expect(report.socket).toBe("root:docker 660");
  expect(report.nonRoot).toBe(report.server.Version);
}
