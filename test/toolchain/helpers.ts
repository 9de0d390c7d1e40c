import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { toolchainEnv } from "../../toolchain/env.js";
import { toolchainPaths } from "../../toolchain/paths.js";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const paths = toolchainPaths();
export const env = toolchainEnv(paths);

/**
 * Runs one of the project's npm entry points exactly as a user would, without
 * throwing on failure. `clean` runs with `extraEnv` alone instead of on top of
 * this process's environment.
 */
export function runEntry(
  args: string[],
  extraEnv: NodeJS.ProcessEnv = {},
  options: { clean?: boolean } = {},
) {
  return execa("node", [join(repoRoot, "toolchain", "bootstrap.mjs"), ...args], {
    cwd: repoRoot,
    env: options.clean ? extraEnv : { ...process.env, ...extraEnv },
    extendEnv: false,
    reject: false,
    all: true,
  });
}
