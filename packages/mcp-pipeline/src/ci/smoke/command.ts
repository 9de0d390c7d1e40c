import { execa } from "execa";

/**
 * Runs the project's own smoke command with `SMOKE_URL` pointing at the
 * service; exit 0 passes. Returns its output's last lines; throws with them otherwise.
 */
export async function commandSmoke(
  command: readonly [string, ...string[]],
  opts: { cwd: string; url: URL; env: Readonly<Record<string, string>>; timeoutSeconds: number },
): Promise<string[]> {
  const [file, ...args] = command;
  const res = await execa(file, args, {
    cwd: opts.cwd,
    env: { ...opts.env, SMOKE_URL: opts.url.toString() },
    reject: false,
    all: true,
    timeout: opts.timeoutSeconds * 1000,
  });
  const tail = String(res.all ?? "")
    .trimEnd()
    .split("\n")
    .slice(-20);
  if (res.exitCode !== 0) {
    const why = res.timedOut
      ? `timed out after ${opts.timeoutSeconds} s`
      : `exited with ${res.exitCode ?? res.signal}`;
    throw Object.assign(new Error(`${command.join(" ")} ${why}`), { stderr: tail.join("\n") });
  }
  return [`${command.join(" ")}: exit 0`, ...tail];
}
