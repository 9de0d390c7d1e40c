import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isCi } from "../host/terminal.js";

export interface DaggerRun {
  /** The Dagger CLI. */
  dagger: string;
  /** The command `dagger run` starts (it gets the session through its environment). */
  command: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Where the person watches: a TTY gets Dagger's interactive view, anything else the plain trace. */
  interactive: boolean;
}

/**
 * Whether `dagger run` gets its interactive view: on a terminal, but never in CI. Some CI runners
 * give steps a pseudo-terminal (act always does) that nobody watches; there the interactive view
 * redraws over the program's own stderr, and a failure's message never reaches the log.
 */
export function interactiveView(
  isTTY: boolean,
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  return isTTY && !isCi(env);
}

/**
 * Runs a program under `dagger run` so that the run ends on the program's own
 * summary: the program writes it to `$PIPELINE_SUMMARY_FILE` instead of the
 * terminal, and it is printed once Dagger has finished drawing. On a TTY that
 * is Dagger's interactive view; elsewhere the plain trace, which is also kept
 * in `$PIPELINE_TRACE_LOG` as it is written, so the program can quote a
 * failing build step's output. Resolves to the program's exit code.
 */
export async function runUnderDagger(run: DaggerRun): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "dagger-run-"));
  const summaryFile = join(dir, "summary.txt");
  const traceFile = join(dir, "trace.log");
  const env = {
    ...run.env,
    PIPELINE_SUMMARY_FILE: summaryFile,
    // Decided here, where the summary is shown, rather than in a child whose stderr Dagger holds.
    PIPELINE_SUMMARY_COLOR: process.stderr.hasColors?.() ? "1" : "0",
    ...(run.interactive ? {} : { PIPELINE_TRACE_LOG: traceFile }),
  };
  const args = ["run", ...(run.interactive ? [] : ["--progress=plain"]), ...run.command];
  try {
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(run.dagger, args, {
        cwd: run.cwd,
        env,
        stdio: run.interactive ? "inherit" : ["inherit", "pipe", "pipe"],
      });
      if (!run.interactive) {
        const trace = createWriteStream(traceFile);
        child.stdout?.on("data", (chunk: Buffer) => {
          trace.write(chunk);
          process.stdout.write(chunk);
        });
        child.stderr?.on("data", (chunk: Buffer) => {
          trace.write(chunk);
          process.stderr.write(chunk);
        });
        child.on("close", () => trace.end());
      }
      // Ctrl-C reaches the whole process group; wait for Dagger to wind down.
      process.on("SIGINT", () => undefined);
      child.on("error", reject);
      child.on("close", (status, signal) => resolve(status ?? (signal ? 130 : 1)));
    });
    if (existsSync(summaryFile)) process.stderr.write(`\n${readFileSync(summaryFile, "utf8")}`);
    return code;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
