import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dirname, "../../..");
export const TSX = resolve(REPO_ROOT, "node_modules/.bin/tsx");

export interface Spawned {
  child: ChildProcess;
  /** stderr so far, split into lines. */
  stderrLines: () => string[];
  stdout: () => string;
  /** Resolves with the exit code (or signal name) once the process ends. */
  exited: Promise<number | string>;
  /** Waits until a JSON log line satisfies `predicate`; returns it. */
  waitForLog: (
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ) => Promise<Record<string, unknown>>;
  /** Sends `signal` (SIGTERM by default) and resolves with the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | string>;
}

/**
 * Runs `tsx <script> ...args` with exactly `env` (plus PATH and HOME); `script` is relative
 * to the repo root, and so is the working directory unless `cwd` is given.
 */
export function spawnTsx(
  script: string,
  args: string[],
  env: Record<string, string | undefined>,
  cwd = REPO_ROOT,
): Spawned {
  const child = spawn(TSX, [resolve(REPO_ROOT, script), ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  const listeners = new Set<() => void>();
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
    for (const listener of listeners) listener();
  });
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  const exited = new Promise<number | string>((resolveExit) => {
    child.on("exit", (code, signal) => {
      for (const listener of listeners) listener();
      resolveExit(code ?? signal ?? "unknown");
    });
  });
  const stderrLines = () => stderr.split("\n").filter(Boolean);
  const parsedLogs = () =>
    stderrLines().flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });

  const waitForLog: Spawned["waitForLog"] = (predicate, timeoutMs = 20_000) =>
    new Promise((resolveLog, reject) => {
      const check = () => {
        const found = parsedLogs().find(predicate);
        if (found) {
          cleanup();
          resolveLog(found);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          cleanup();
          reject(new Error(`process exited before the expected log line; stderr:\n${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for a log line; stderr:\n${stderr}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });

  return {
    child,
    stderrLines,
    stdout: () => stdout,
    exited,
    waitForLog,
    stop: (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Waits for the `port` field of the first log line that has one. */
export async function listeningPort(process: Spawned): Promise<number> {
  const line = await process.waitForLog((entry) => typeof entry.port === "number");
  return line.port as number;
}
