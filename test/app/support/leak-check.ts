// Global setup of the test run: gives the run a directory in which spawnTsx records the
// process groups it starts, and at the end of the run fails it (exit code 1) if any process
// the tests started is still alive, after killing it.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findTestProcesses, type TestProcess } from "./leaks.js";
import { PROCESS_GROUPS_FILE, TEST_RUN_VAR, testRunMarkPrefix } from "./processes.js";

/** How long processes that were told to stop at the very end of a test get to exit. */
const GRACE_MS = 3000;

/** Sets up the run's directory; returns the teardown that checks for leaked processes. */
export default async function setup(): Promise<() => Promise<void>> {
  // Each project runs this setup in the same process; the first one owns the check.
  if (process.env[TEST_RUN_VAR] !== undefined) return async () => undefined;
  const dir = await mkdtemp(join(tmpdir(), "todo-app-test-"));
  process.env[TEST_RUN_VAR] = dir;
  return async () => {
    const leaked = await leftBehind(dir, GRACE_MS);
    delete process.env[TEST_RUN_VAR];
    await rm(dir, { recursive: true, force: true });
    if (leaked.length === 0) return;
    for (const { pid } of leaked) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // It ended between the check and the kill: nothing left to do.
      }
    }
    process.stderr.write(`\n${describeLeaks(leaked)}\n`);
    // A throwing teardown only prints "error during close"; the exit code is what fails a run.
    process.exitCode = 1;
  };
}

/**
 * The processes the run started that are still alive after waiting up to `graceMs` for them
 * to exit.
 */
export async function leftBehind(dir: string, graceMs: number): Promise<TestProcess[]> {
  const groups = new Set(
    (await readFile(join(dir, PROCESS_GROUPS_FILE), "utf8").catch(() => ""))
      .split("\n")
      .filter(Boolean)
      .map(Number),
  );
  const deadline = Date.now() + graceMs;
  for (;;) {
    const alive = await findTestProcesses(testRunMarkPrefix(dir), groups);
    if (alive.length === 0 || Date.now() >= deadline) return alive;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The message that fails the run: which processes were left running, and what to fix. */
export function describeLeaks(leaked: readonly TestProcess[]): string {
  const lines = leaked.map(({ pid, pgid, command }) => `  pid ${pid} (group ${pgid}): ${command}`);
  return [
    `FAIL  ${leaked.length} process${leaked.length === 1 ? "" : "es"} started by the tests ${leaked.length === 1 ? "was" : "were"} still running when the run ended (now killed):`,
    ...lines,
    "Stop every process a test starts (Spawned.stop) in its finally or afterAll.",
  ].join("\n");
}
