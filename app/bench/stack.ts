// Host processes for the benchmarks: the real backend and MCP server entry points, run under
// the same Node as the benchmark itself with the servers' own flags (SERVER_NODE_FLAGS), from
// source (with its tsx loader) or as the bundles `npm run build` makes for the image.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { SERVER_NODE_FLAGS } from "../shared/runtime.js";

/** One of the app's entry points running as a child process. */
export interface AppProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  /** Resolves with the exit code or signal once the process has ended. */
  exited: Promise<number | NodeJS.Signals | null>;
  /** Sends `signal` (SIGTERM by default) and waits for the process to end. */
  stop(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals | null>;
}

const ENTRIES = {
  backend: "../backend/main.ts",
  mcp: "../mcp/main.ts",
} as const;

const BUNDLES: Record<keyof typeof ENTRIES, string> = {
  backend: "../../dist/backend/main.js",
  mcp: "../../dist/mcp/main.js",
};

// Enough of a child's stderr to explain why it failed, without growing without bound.
const STDERR_TAIL_CHARS = 16_384;

/**
 * Starts the backend or the MCP server and resolves once it logs the port it listens on.
 * `env` is the child's whole environment apart from PATH. `bundled` runs the bundle the image
 * ships (dist/, from `npm run build`) on plain Node instead of the source under tsx.
 */
export function startApp(
  which: keyof typeof ENTRIES,
  env: Record<string, string>,
  bundled = false,
  timeoutMs = 120_000,
): Promise<AppProcess> {
  const script = fileURLToPath(new URL((bundled ? BUNDLES : ENTRIES)[which], import.meta.url));
  if (bundled && !existsSync(script)) {
    return Promise.reject(new Error(`${script} does not exist: run \`npm run build\` first.`));
  }
  // process.execArgv carries tsx's loader flags, so the child runs TypeScript too.
  const args = bundled
    ? [...SERVER_NODE_FLAGS, script]
    : [...SERVER_NODE_FLAGS, ...process.execArgv, script];
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal));
  });
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return new Promise((resolve, reject) => {
    let tail = "";
    let pending = "";
    let port: number | undefined;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${which} did not report a port within ${timeoutMs} ms:\n${tail}`));
    }, timeoutMs);
    // stderr is drained for the child's whole life: a full pipe would block its logging.
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      tail = (tail + chunk).slice(-STDERR_TAIL_CHARS);
      if (port !== undefined) return;
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const found = portOf(line);
        if (found === undefined) continue;
        port = found;
        clearTimeout(timer);
        resolve({ child, pid: child.pid as number, port, exited, stop });
        return;
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (port === undefined) {
        reject(new Error(`${which} exited (${code ?? signal}) before listening:\n${tail}`));
      }
    });
  });
}

function portOf(line: string): number | undefined {
  try {
    const entry = JSON.parse(line) as { port?: unknown };
    return typeof entry.port === "number" ? entry.port : undefined;
  } catch {
    // Not one of the app's JSON log lines.
    return undefined;
  }
}

/** Resident set size of a process in MiB, or undefined once it has gone. */
export async function rssMiB(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => undefined);
  const match = status === undefined ? null : /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return match?.[1] ? Number(match[1]) / 1024 : undefined;
}

// Linux reports process times in USER_HZ ticks, which the kernel fixes at 100 per second.
const MS_PER_TICK = 10;

/** CPU time (user + system) a process has used so far in ms, or undefined once it has gone. */
export async function cpuMs(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  if (stat === undefined) return undefined;
  // utime and stime are fields 14 and 15; the command name before them may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
}
