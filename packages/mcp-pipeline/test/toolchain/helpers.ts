import { join } from "node:path";
import { execa } from "execa";
import { toolchainEnv } from "../../src/toolchain/env.js";
import { toolchainPaths } from "../../src/toolchain/paths.js";
import { REPO_ROOT } from "../paths.js";

/** The repository: `npm run` entry points run here, on its app. */
export const repoRoot = REPO_ROOT;
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
  return execa("node", [join(repoRoot, "scripts", "bootstrap.mjs"), ...args], {
    cwd: repoRoot,
    env: options.clean ? extraEnv : { ...process.env, ...extraEnv },
    extendEnv: false,
    reject: false,
    all: true,
  });
}
