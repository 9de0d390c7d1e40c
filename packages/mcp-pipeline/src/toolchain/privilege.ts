import { ToolchainError, ToolchainErrorCode } from "../host/errors.js";
import { type RunOptions, run, succeeds } from "../host/exec.js";

let sudoWorks: boolean | undefined;

/** True when this process may run commands as root: it is root, or `sudo -n` works without a password. */
export async function canBeRoot(env: NodeJS.ProcessEnv): Promise<boolean> {
  if (process.getuid?.() === 0) return true;
  sudoWorks ??= await succeeds("sudo", ["-n", "true"], { env, timeoutMs: 10_000 });
  return sudoWorks;
}

/**
 * Runs a command as root: directly when we are root, through `sudo -n` (never
 * prompting) otherwise, as on GitHub-hosted runners. Fails with a hint when neither works.
 */
export async function runAsRoot(
  file: string,
  args: readonly string[],
  opts: RunOptions & { why: string },
): Promise<string> {
  if (process.getuid?.() === 0) return run(file, args, opts);
  if (!(await canBeRoot(opts.env ?? process.env))) {
    throw new ToolchainError(
      ToolchainErrorCode.Unsupported,
      `${opts.why} needs root, and this user is not root and has no passwordless sudo.`,
      {
        hint: `Run as root: \`sudo ${file} ${args.join(" ")}\`, then \`mcp-pipeline setup\` again.`,
      },
    );
  }
  // sudo resets the environment; pass through only what apt and systemctl need.
  const pass = Object.entries(opts.env ?? {})
    .filter(([k]) => k === "DEBIAN_FRONTEND")
    .map(([k, v]) => `${k}=${v}`);
  return run("sudo", ["-n", ...pass, file, ...args], opts);
}
