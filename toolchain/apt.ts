import type { StepContext } from "./context.js";
import { run } from "./exec.js";

let updated = false;

/** `apt-get install` as root on Debian/Ubuntu, refreshing the package lists once per run first. */
export async function aptInstall(
  ctx: Pick<StepContext, "env" | "logFile" | "note">,
  packages: string[],
): Promise<void> {
  const env = { ...ctx.env, DEBIAN_FRONTEND: "noninteractive" };
  if (!updated) {
    ctx.note("apt-get update");
    await run("apt-get", ["update", "-q"], { env, logFile: ctx.logFile });
    updated = true;
  }
  ctx.note(`apt-get install ${packages.join(" ")}`);
  await run("apt-get", ["install", "-y", "-q", ...packages], {
    env,
    logFile: ctx.logFile,
  });
}
