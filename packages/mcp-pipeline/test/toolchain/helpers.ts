import { join } from "node:path";
import { execa } from "execa";
import { expect } from "vitest";
import { ToolchainError } from "../../src/host/errors.js";
import { toolchainEnv } from "../../src/toolchain/env.js";
import { REGISTRY_BRIDGE_HOST } from "../../src/toolchain/registry-config.js";
import { toolchainPaths } from "../../src/toolchain/settings.js";
import { REPO_ROOT } from "../paths.js";

/** The repository: `npm run` entry points run here, on its app. */
export const repoRoot = REPO_ROOT;
/**
 * The environment without what the caller's job or shell says about where and how to publish: a
 * GitHub Actions job's context (`GITHUB_REF`, `GITHUB_EVENT_NAME`, …, its token, step summary and
 * OIDC request) and the pipeline's own settings (`REGISTRY*`, `PIPELINE_*`, `COSIGN_*`). The
 * tests' pipeline runs decide those for themselves; on a pull request an inherited
 * `GITHUB_REF=refs/pull/N/merge` made every control run that must publish verify only, each run
 * appended its report to the job's 1 MiB step summary, and an exported `REGISTRY` sent the
 * control runs' credentials question to the wrong registry.
 */
export function withoutGitHubContext(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(base).filter(
      ([name]) => !/^(GITHUB_|ACTIONS_|RUNNER_|REGISTRY|PIPELINE_|COSIGN_)/.test(name),
    ),
  );
}

export const paths = toolchainPaths();
export const env = toolchainEnv(paths, withoutGitHubContext(process.env));

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
    env: options.clean ? extraEnv : { ...withoutGitHubContext(process.env), ...extraEnv },
    extendEnv: false,
    reject: false,
    all: true,
  });
}

/**
 * The git context the control runs publish from: the checkout's own when HEAD is on a branch
 * (the default branch in CI's fresh clone), else — a detached HEAD, as actions/checkout leaves a
 * pull request's merge commit — the default branch's, given the way GitHub Actions gives it.
 * Never the job's own context: a pull request's would make every control run verify only.
 */
export async function controlRunContext(cwd: string = repoRoot): Promise<NodeJS.ProcessEnv> {
  const branch = await execa("git", ["symbolic-ref", "-q", "HEAD"], { cwd, reject: false });
  if (branch.exitCode === 0) return {};
  const sha = (await execa("git", ["rev-parse", "HEAD"], { cwd })).stdout.trim();
  return {
    GITHUB_REF: "refs/heads/main",
    GITHUB_SHA: sha,
    GITHUB_EVENT_NAME: "push",
    GITHUB_DEFAULT_BRANCH: "main",
  };
}

/**
 * A reference to a local registry (`172.17.0.1:<port>/…`) as the Docker CLI must use it: on
 * loopback (`127.0.0.1:<port>/…`, the same registry: it listens on every address). Docker speaks
 * plain HTTP to loopback registries without configuration, and only there: a hosted runner's
 * engine is already running without `--insecure-registry` entries, and setup does not restart it.
 */
export function viaLoopback(ref: string): string {
  return ref.startsWith(`${REGISTRY_BRIDGE_HOST}:`)
    ? `127.0.0.1:${ref.slice(REGISTRY_BRIDGE_HOST.length + 1)}`
    : ref;
}

/** The ToolchainError `promise` rejects with (the test fails if it resolves or throws another). */
export async function toolchainFailure(promise: Promise<unknown>): Promise<ToolchainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ToolchainError);
  return error as ToolchainError;
}
