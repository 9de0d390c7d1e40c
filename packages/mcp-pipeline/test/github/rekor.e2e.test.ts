import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { running } from "../../src/host/process.js";
import { abandonedDirs, OWNER_FILE, PG_ROOT_PREFIX } from "./rekor.js";

// The GitHub simulation's transparency log (Rekor, Trillian, PostgreSQL) must not outlive the
// process that started it, even one killed with SIGKILL, which runs no cleanup: a hard-killed
// `npm run test:github` left all four servers running before. Its database directory stays (no
// cleanup ran) until the next start removes it; this test removes it itself. Needs root, like the
// log itself.
const AS_ROOT = process.getuid?.() === 0;
const HOLD = join(import.meta.dirname, "fixtures", "hold-rekor.ts");

let holder: ChildProcess | undefined;
let dir: string | undefined;
afterEach(() => {
  holder?.kill("SIGKILL");
  if (dir) rmSync(dir, { recursive: true, force: true });
  for (const pgRoot of databaseDirsOf(holder?.pid))
    rmSync(pgRoot, { recursive: true, force: true });
});

/** The database directories a process started (their owner file names it). */
function databaseDirsOf(pid: number | undefined): string[] {
  if (pid === undefined) return [];
  return abandonedDirs(tmpdir(), PG_ROOT_PREFIX).filter(
    (pgRoot) => readFileSync(join(pgRoot, OWNER_FILE), "utf8").trim() === String(pid),
  );
}

async function started(child: ChildProcess): Promise<{ url: string; pids: number[] }> {
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines = createInterface({ input: child.stdout ?? process.stdin });
  const first = await new Promise<string | undefined>((resolve) => {
    lines.once("line", resolve);
    child.once("exit", () => resolve(undefined));
  });
  if (!first) throw new Error(`hold-rekor.ts ended before starting the log:\n${stderr}`);
  return JSON.parse(first) as { url: string; pids: number[] };
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/api/v1/log`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

async function until(condition: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return condition();
}

describe.skipIf(!AS_ROOT)("the simulation's transparency log (needs root)", () => {
  it("stops with the process that started it, even when that process is killed with SIGKILL", async () => {
    dir = mkdtempSync(join(tmpdir(), "rekor-hold-"));
    holder = spawn(process.execPath, ["--import", "tsx", HOLD, dir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const log = await started(holder);
    // The control: while its starter lives, the log serves and its four servers run.
    expect(log.pids).toHaveLength(4);
    expect(log.pids.every(running)).toBe(true);
    expect(await answers(log.url)).toBe(true);

    holder.kill("SIGKILL");
    expect(await until(() => log.pids.every((pid) => !running(pid)), 15_000)).toBe(true);
    expect(await answers(log.url)).toBe(false);
    // What it left is what the next start removes: a database directory whose owner is gone.
    expect(databaseDirsOf(holder.pid)).toHaveLength(1);
  }, 900_000);
});
