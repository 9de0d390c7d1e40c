import type { StepContext } from "./context.js";
import { runAsRoot } from "./privilege.js";
import { forgetInstalledPackages, recordInstalledPackages } from "./state.js";

let updated = false;

/**
 * `apt-get install` on Debian/Ubuntu (as root, or through passwordless sudo),
 * refreshing the package lists once per run first. Records the packages so
 * setup knows later that it installed them.
 */
export async function aptInstall(
  ctx: Pick<StepContext, "env" | "logFile" | "note" | "paths">,
  packages: string[],
): Promise<void> {
  const env = { ...ctx.env, DEBIAN_FRONTEND: "noninteractive" };
  const why = `Installing ${packages.join(", ")}`;
  if (!updated) {
    ctx.note("apt-get update");
    await runAsRoot("apt-get", ["update", "-q"], { env, logFile: ctx.logFile, why });
    updated = true;
  }
  ctx.note(`apt-get install ${packages.join(" ")}`);
  await runAsRoot("apt-get", ["install", "-y", "-q", ...packages], {
    env,
    logFile: ctx.logFile,
    why,
  });
  recordInstalledPackages(ctx.paths, packages);
}

/**
 * `apt-get remove` of packages this toolchain installed (as root, or through passwordless
 * sudo), and forgets them. Their data (for docker.io: /var/lib/docker) stays.
 */
export async function aptRemove(
  ctx: Pick<StepContext, "env" | "logFile" | "note" | "paths">,
  packages: string[],
): Promise<void> {
  const env = { ...ctx.env, DEBIAN_FRONTEND: "noninteractive" };
  ctx.note(`apt-get remove ${packages.join(" ")}`);
  await runAsRoot("apt-get", ["remove", "-y", "-q", ...packages], {
    env,
    logFile: ctx.logFile,
    why: `Removing ${packages.join(", ")}`,
  });
  forgetInstalledPackages(ctx.paths, packages);
}
