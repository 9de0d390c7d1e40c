import { readdir, readFile } from "node:fs/promises";

/** A live process the tests started, as /proc shows it. */
export interface TestProcess {
  pid: number;
  pgid: number;
  /** Its command line, arguments joined by spaces. */
  command: string;
}

/** Environment variable that marks a process (and what it starts) as started by the tests. */
export const CHILD_MARK_VAR = "TODO_APP_TEST_CHILD";

/**
 * Every live process that the tests started: members of the process groups in `groups`, and
 * processes whose environment holds a `TODO_APP_TEST_CHILD` mark starting with `markPrefix`
 * (the mark survives a process leaving its group, as the dev runner's children do).
 */
export function findTestProcesses(
  markPrefix: string,
  groups: ReadonlySet<number> = new Set(),
): Promise<TestProcess[]> {
  const mark = `${CHILD_MARK_VAR}=${markPrefix}`;
  return findProcesses(
    (pgid, environ) =>
      groups.has(pgid) || environ().then((env) => env.some((entry) => entry.startsWith(mark))),
  );
}

/**
 * Every live process (zombies aside) for which `matches` holds, given its process group and a
 * reader of its environment. Linux only: elsewhere there is no /proc and nothing is found.
 */
export async function findProcesses(
  matches: (pgid: number, environ: () => Promise<string[]>) => boolean | Promise<boolean>,
): Promise<TestProcess[]> {
  const entries = await readdir("/proc").catch(() => [] as string[]);
  const found: TestProcess[] = [];
  await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
      .map(async (entry) => {
        const pid = Number(entry);
        const stat = await readProc(pid, "stat");
        if (stat === undefined) return;
        // Fields after the command name, which is in parentheses and may itself contain any.
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        // A zombie has already ended; only its parent's wait is missing.
        if (fields[0] === "Z") return;
        const pgid = Number(fields[2]);
        const environ = async () => ((await readProc(pid, "environ")) ?? "").split("\0");
        if (!(await matches(pgid, environ))) return;
        const command = ((await readProc(pid, "cmdline")) ?? "").split("\0").join(" ").trim();
        found.push({ pid, pgid, command });
      }),
  );
  return found.sort((a, b) => a.pid - b.pid);
}

/** Kills (SIGKILL) every live process marked with `mark` or a mark that starts with it. */
export async function killMarked(mark: string): Promise<void> {
  // A SIGKILLed process lingers in /proc until the kernel has torn it down, longer on a loaded
  // machine: wait until none is left, so a caller that checks next sees them gone.
  const deadline = Date.now() + KILL_WAIT_MS;
  for (;;) {
    const left = await findTestProcesses(mark);
    if (left.length === 0 || Date.now() > deadline) return;
    for (const { pid } of left) {
      try {
        process.kill(pid, "SIGKILL");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
      }
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
}

/** How long killMarked waits for killed processes to be gone. */
const KILL_WAIT_MS = 10_000;

async function readProc(pid: number, file: string): Promise<string | undefined> {
  // The process may end between listing and reading, or belong to a user we cannot read.
  return readFile(`/proc/${pid}/${file}`, "utf8").catch(() => undefined);
}
