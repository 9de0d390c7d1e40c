import { createWriteStream, existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { type ExecaError, execa, type Options } from "execa";
import { ToolchainError, ToolchainErrorCode } from "./errors.js";

/** How many lines of a failed command's output its error message keeps. */
const TAIL_LINES = 25;

/**
 * What a child process needs to reach the network as this one does: proxies (both spellings)
 * and the CA bundle a TLS-inspecting proxy's certificate is in. Tools run with a trimmed
 * environment get these and nothing else of the network setup.
 */
export const NETWORK_ENV = [
  "HTTPS_PROXY",
  "HTTP_PROXY",
  "NO_PROXY",
  "https_proxy",
  "http_proxy",
  "no_proxy",
  "SSL_CERT_FILE",
] as const;

/**
 * A command that failed: what ran, how it ended, and the tail of its output.
 * The ExecaError is the `cause`, with everything execa knows.
 */
export class CommandError extends ToolchainError {
  readonly command: string;
  readonly exitCode: number | undefined;
  /** The last lines of stdout and stderr, interleaved as they came. */
  readonly output: string;

  constructor(command: string, result: ExecaError, timeoutMs: number | undefined) {
    const output = String(result.all ?? result.stderr ?? "")
      .trimEnd()
      .split("\n")
      .slice(-TAIL_LINES)
      .join("\n");
    const why = result.timedOut
      ? `timed out after ${timeoutMs} ms`
      : result.exitCode !== undefined
        ? `exit code ${result.exitCode}`
        : (result.shortMessage ?? "failed to start");
    super(
      ToolchainErrorCode.CommandFailed,
      `\`${command}\` failed (${why})${output ? `:\n${output}` : ""}`,
      { cause: result },
    );
    this.name = "CommandError";
    this.command = command;
    this.exitCode = result.exitCode;
    this.output = output;
  }

  /** stderr-like text for report details (see ci/checks/check.ts). */
  get stderr(): string {
    return this.output;
  }
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  /** Append stdout and stderr to this file as well (long builds). */
  logFile?: string;
  timeoutMs?: number;
}

/**
 * The one way the project runs a command: returns its stdout, and on failure
 * throws a CommandError carrying the tail of the output, so the caller's
 * message can show why. The environment is the caller's (`env`) on top of this
 * process's.
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
  if (result.failed) {
    throw new CommandError(`${file} ${args.join(" ")}`, result as ExecaError, opts.timeoutMs);
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
