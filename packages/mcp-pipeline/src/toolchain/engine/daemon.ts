import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, readlinkSync } from "node:fs";
import { dirname } from "node:path";
import { ToolchainError, ToolchainErrorCode } from "../../host/errors.js";
import { succeeds } from "../../host/exec.js";
import { running } from "../../host/process.js";

/** True when a Docker daemon answers (on `DOCKER_HOST` of `env`, else the default socket). */
export async function dockerAnswers(env: NodeJS.ProcessEnv): Promise<boolean> {
  return succeeds("docker", ["version", "--format", "{{.Server.Version}}"], {
    env,
    timeoutMs: 10_000,
  });
}

/** Polls until a daemon answers or `timeoutMs` passes. */
export async function waitForDocker(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await dockerAnswers(env)) return true;
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}

export interface DockerdStart {
  /** The dockerd binary. Its directory goes first on dockerd's PATH. */
  dockerd: string;
  args: readonly string[];
  /** stdout and stderr of dockerd (and the containerd it manages) are appended here. */
  logFile: string;
  env: NodeJS.ProcessEnv;
  /**
   * Start it in a network namespace of its own (`unshare --net`): a second daemon beside the
   * machine's must not touch the host's links — started with `--bridge=none`, dockerd deletes
   * `docker0`, the machine engine's bridge.
   */
  ownNetwork?: boolean;
}

/**
 * Starts dockerd in the background, detached from this process. dockerd finds containerd,
 * containerd-shim-runc-v2, runc and docker-init on its PATH: with the binary's own directory
 * first, an engine installed into the cache uses its own, never the machine's older ones.
 * Returns the process id.
 */
export function startDockerd(s: DockerdStart): number {
  const out = openSync(s.logFile, "a");
  try {
    // unshare execs dockerd in place, so the pid is dockerd's.
    const [command, args] = s.ownNetwork
      ? ["unshare", ["--net", "--", s.dockerd, ...s.args]]
      : [s.dockerd, [...s.args]];
    const child = spawn(command, args, {
      detached: true,
      stdio: ["ignore", out, out],
      env: {
        ...s.env,
        PATH: `${dirname(s.dockerd)}:${s.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"}`,
      },
    });
    // A binary that cannot start is reported below (no pid), not as an unhandled 'error' event.
    child.on("error", () => undefined);
    child.unref();
    if (child.pid === undefined) throw new Error(`${s.dockerd} did not start`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/** Where a dockerd started without `--pidfile` writes its process id. */
export const DOCKERD_PID_FILE = "/var/run/docker.pid";

/**
 * The pid of the dockerd whose pid `pidFile` holds, if that process runs and is `binary` (never
 * another program that reused the pid); else undefined.
 */
export function runningDockerd(
  binary: string,
  pidFile: string = DOCKERD_PID_FILE,
): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, "utf8").trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !running(pid)) return undefined;
  try {
    return readlinkSync(`/proc/${pid}/exe`) === binary ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Stops the dockerd whose pid `pidFile` holds, if that process runs `binary` (never another
 * program that reused the pid): SIGTERM, then waits for it to exit — dockerd stops its
 * containers and its containerd first. Returns false when it was not running; stops setup,
 * saying how to go on, when it is still running after `timeoutMs`.
 */
export async function stopDockerd(
  binary: string,
  timeoutMs: number,
  pidFile: string = DOCKERD_PID_FILE,
): Promise<boolean> {
  const pid = runningDockerd(binary, pidFile);
  if (pid === undefined) return false;
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + timeoutMs;
  while (running(pid)) {
    if (Date.now() > deadline)
      throw new ToolchainError(
        ToolchainErrorCode.NotReady,
        `${binary} (pid ${pid}) did not stop within ${timeoutMs / 1000} s of SIGTERM.`,
        {
          hint: `Stop it (\`kill ${pid}\`, or \`kill -9 ${pid}\` if it hangs), then run setup again.`,
        },
      );
    await new Promise((r) => setTimeout(r, 250));
  }
  return true;
}
