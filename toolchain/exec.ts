import { createWriteStream, existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { execa, type Options } from "execa";
import { ToolchainError, ToolchainErrorCode } from "./errors.js";

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  /** Append stdout and stderr to this file as well (long builds). */
  logFile?: string;
  timeoutMs?: number;
}

/**
 * Runs a command and returns its stdout. On failure it throws a ToolchainError
 * carrying the tail of the output, so the caller's message can show why.
 */
export async function run(
  file: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<string> {
  const options: Options = {
    env: opts.env,
    cwd: opts.cwd,
    input: opts.input,
    timeout: opts.timeoutMs,
    all: true,
    reject: false,
    stripFinalNewline: true,
  };
  const child = execa(file, args, options);
  if (opts.logFile) {
    mkdirSync(dirname(opts.logFile), { recursive: true });
    const log = createWriteStream(opts.logFile, { flags: "a" });
    log.write(`\n$ ${file} ${args.join(" ")}\n`);
    child.all?.pipe(log, { end: false });
    child.finally(() => log.end()).catch(() => undefined);
  }
  const result = await child;
  const all = String(result.all ?? "");
  if (result.failed) {
    const tail = all.split("\n").slice(-25).join("\n");
    const why = result.timedOut
      ? `timed out after ${opts.timeoutMs} ms`
      : result.exitCode !== undefined
        ? `exit code ${result.exitCode}`
        : (result.shortMessage ?? "failed to start");
    throw new ToolchainError(
      ToolchainErrorCode.CommandFailed,
      `\`${file} ${args.join(" ")}\` failed (${why})${tail ? `:\n${tail}` : ""}`,
      { cause: result },
    );
  }
  return String(result.stdout ?? "");
}

/** Runs a command and reports only whether it succeeded. */
export async function succeeds(
  file: string,
  args: readonly string[],
  opts: Omit<RunOptions, "logFile"> = {},
): Promise<boolean> {
  try {
    await run(file, args, opts);
    return true;
  } catch {
    return false;
  }
}

/** The first `cmd` on `env.PATH`, or undefined. */
export function which(cmd: string, env: NodeJS.ProcessEnv): string | undefined {
  return (env.PATH ?? "")
    .split(":")
    .filter(Boolean)
    .map((dir) => join(dir, cmd))
    .find((path) => existsSync(path));
}
