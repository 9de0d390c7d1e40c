import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../../src/host/exec.js";
import type { ImageStore } from "../../../src/host/image-store.js";
import { startDockerd, waitForDocker } from "../../../src/toolchain/engine/daemon.js";

/** Which image store the daemon uses. */

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes whose command line mentions `dir`: the containerd and shims this sandbox's dockerd started. */
function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.includes(dir)) pids.push(Number(entry));
    } catch {
      // It exited while we looked.
    }
  }
  return pids;
}

/** Mount points at or under `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .filter((point) => point === dir || point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return check();
}

/**
 * A Docker daemon of the engine in `binDir`, beside the machine's: its own data root, exec root,
 * pidfile, socket, config file and managed containerd, all under `dir`, in a network namespace of
 * its own (with `--bridge=none` dockerd deletes the host's `docker0`); no bridge, no iptables
 * rules (containers run with `--network none`). `stop` ends everything it started and removes
 * `dir`, even after a failed start.
 */
export class SandboxEngine {
  readonly socket: string;
  readonly env: NodeJS.ProcessEnv;
  readonly logFile: string;
  readonly binDir: string;
  readonly dir: string;
  readonly store: ImageStore;
  private pid: number | undefined;

  constructor(binDir: string, dir: string, store: ImageStore) {
    this.binDir = binDir;
    this.dir = dir;
    this.store = store;
    this.socket = join(dir, "docker.sock");
    this.logFile = join(dir, "dockerd.log");
    this.env = {
      ...process.env,
      DOCKER_HOST: `unix://${this.socket}`,
      DOCKER_CONFIG: join(dir, "cli-config"),
      // No buildx plugin in this sandbox's CLI config: `docker build` is the daemon's own builder.
      DOCKER_BUILDKIT: "0",
      PATH: `${binDir}:${process.env.PATH ?? ""}`,
    };
  }

  async start(): Promise<void> {
    mkdirSync(join(this.dir, "cli-config"), { recursive: true });
    const config = join(this.dir, "daemon.json");
    writeFileSync(
      config,
      JSON.stringify({ features: { "containerd-snapshotter": this.store === "containerd" } }),
    );
    this.pid = startDockerd({
      dockerd: join(this.binDir, "dockerd"),
      args: [
        "--config-file",
        config,
        "--data-root",
        join(this.dir, "data"),
        "--exec-root",
        join(this.dir, "exec"),
        "--pidfile",
        join(this.dir, "docker.pid"),
        "-H",
        `unix://${this.socket}`,
        "--bridge=none",
        "--iptables=false",
        "--ip6tables=false",
      ],
      logFile: this.logFile,
      env: this.env,
      ownNetwork: true,
    });
    if (!(await waitForDocker(this.env, 60_000))) {
      const log = existsSync(this.logFile) ? readFileSync(this.logFile, "utf8") : "";
      throw new Error(
        `the sandbox dockerd (${this.store}) did not answer within 60 s:\n${log.split("\n").slice(-15).join("\n")}`,
      );
    }
  }

  /** The sandbox's own Docker CLI (the engine's `docker`), on its socket. */
  docker(args: readonly string[], input?: string): Promise<string> {
    return run(join(this.binDir, "docker"), args, {
      env: this.env,
      timeoutMs: 120_000,
      ...(input === undefined ? {} : { input }),
    });
  }

  /** Stops containers, dockerd, its containerd and shims; unmounts and removes `dir`. */
  async stop(): Promise<void> {
    if (this.pid !== undefined && alive(this.pid)) {
      const ids = await this.docker(["ps", "-aq"]).catch(() => "");
      if (ids.trim()) await this.docker(["rm", "-f", ...ids.trim().split("\n")]).catch(() => "");
      process.kill(this.pid, "SIGTERM");
      const pid = this.pid;
      if (!(await until(() => !alive(pid), 30_000))) process.kill(pid, "SIGKILL");
    }
    // What dockerd started and left (after a SIGKILL, or a failed start): by id, under our dir.
    for (const pid of processesUnder(this.dir)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await until(() => processesUnder(this.dir).length === 0, 10_000);
    for (const point of mountsUnder(this.dir))
      execFileSync("umount", ["-l", point], { stdio: "ignore" });
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** What is left of this sandbox: processes and mounts (both should be none after `stop`). */
  leftovers(): { processes: number[]; mounts: string[] } {
    return { processes: processesUnder(this.dir), mounts: mountsUnder(this.dir) };
  }
}
