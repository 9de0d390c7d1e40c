import { execa } from "execa";
import { run } from "../../host/exec.js";

/**
 * Runs git in `cwd` (with `env`, else this process's environment) and returns its trimmed
 * stdout; throws a CommandError when git fails.
 */
export async function git(
  cwd: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
): Promise<string> {
  return (await run("git", args, { cwd, ...(env ? { env } : {}) })).trim();
}

/** Like `git`, but undefined where git exits non-zero (a missing ref, a detached HEAD, no repository). */
export async function gitQuery(
  cwd: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const res = await execa("git", args, {
    cwd,
    reject: false,
    ...(env ? { env, extendEnv: false } : {}),
  });
  return res.exitCode === 0 ? String(res.stdout).trim() : undefined;
}
