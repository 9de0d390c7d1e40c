import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { appendFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CHILD_MARK_VAR, killMarked } from "./leaks.js";

export const REPO_ROOT = resolve(import.meta.dirname, "../../..");
export const TSX = resolve(REPO_ROOT, "node_modules/.bin/tsx");

/**
 * Set by the test run's global setup (leak-check.ts) to a directory of its own; every process
 * the tests start is recorded there and marked with it, so the run can check at its end that
 * none of them is still alive.
 */
export const TEST_RUN_VAR = "TODO_APP_TEST_RUN";
/** The file in the run directory that lists the process groups the tests started. */
export const PROCESS_GROUPS_FILE = "process-groups";

// Outside a run with the global setup (a file run on its own config), processes are still
// marked, with a directory nobody checks.
const runDir = process.env[TEST_RUN_VAR] ?? join("/nonexistent", `todo-app-test-${randomUUID()}`);

/**
 * The environment entries that mark a process as started by this test run; give them to any
 * process a test starts other than through spawnTsx (an SDK's stdio transport, say).
 * `id` tells this process apart from the others, for killMarked.
 */
export function testProcessMark(id: string = randomUUID()): Record<string, string> {
  return { [CHILD_MARK_VAR]: `${runDir}#${id}` };
}

/** What every mark of this test run starts with. */
export function testRunMarkPrefix(dir: string = runDir): string {
  return `${dir}#`;
}

export interface Spawned {
  child: ChildProcess;
  /** The mark this process and everything it starts carry (see findTestProcesses). */
  mark: string;
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
  /**
   * Sends `signal` (SIGTERM by default) and resolves with the exit code; then kills whatever
   * the process started and left behind, so nothing outlives the test.
   */
  stop: (signal?: NodeJS.Signals) => Promise<number | string>;
}

/**
 * Runs `tsx <script> ...args` with exactly `env` (plus PATH, HOME and the run's mark);
 * `script` is relative to the repo root, and so is the working directory unless `cwd` is given.
 *
 * tsx runs the script in a child Node process of its own, so the script's process is a
 * grandchild of the test: the tsx process starts in a new process group, and stop() ends
 * the whole group (and anything that left it but kept the mark), not only the tsx process.
 */
export function spawnTsx(
  script: string,
  args: string[],
  env: Record<string, string | undefined>,
  cwd = REPO_ROOT,
): Spawned {
  const marking = testProcessMark();
  const mark = marking[CHILD_MARK_VAR] as string;
  const child = spawn(TSX, [resolve(REPO_ROOT, script), ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, ...marking },
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  const pgid = child.pid;
  if (pgid !== undefined) recordProcessGroup(pgid);
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

  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    const running = child.exitCode === null && child.signalCode === null;
    // SIGKILL cannot be forwarded, so it goes to the whole group at once; other signals go to
    // tsx alone, which forwards them to the script (the group would get them twice).
    if (running && pgid !== undefined) {
      if (signal === "SIGKILL") killGroup(pgid);
      else child.kill(signal);
    }
    const code = await exited;
    if (pgid !== undefined) killGroup(pgid);
    await killMarked(mark);
    return code;
  };

  return { child, mark, stderrLines, stdout: () => stdout, exited, waitForLog, stop };
}

/** Waits for the `port` field of the first log line that has one. */
export async function listeningPort(process: Spawned): Promise<number> {
  const line = await process.waitForLog((entry) => typeof entry.port === "number");
  return line.port as number;
}

function recordProcessGroup(pgid: number): void {
  try {
    appendFileSync(join(runDir, PROCESS_GROUPS_FILE), `${pgid}\n`);
  } catch (error) {
    // Outside a checked run there is no directory to record in; inside one it must work.
    if (process.env[TEST_RUN_VAR] !== undefined) {
      throw new Error(`Could not record process group ${pgid} in ${runDir}`, { cause: error });
    }
  }
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch (error) {
    // ESRCH: every process of the group has already gone.
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}
