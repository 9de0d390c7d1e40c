import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { execa } from "execa";
import { git, gitQuery } from "../git/git.js";
import { bumpServerJson } from "../mcp/server-json.js";
import { BUMPS, nextVersion, ReleaseRefusedError, releaseTag } from "./version.js";

// `mcp-pipeline release <patch|minor|major|X.Y.Z>`: cut a release from a workstation. Everything it
// checks happens before anything changes; the push is left to the person, so a release is never
// half-published by a script.

/** Exit codes: the entry point alone maps outcomes to them. */
export const EXIT = { ok: 0, failed: 1, refused: 2 } as const;

/** What a release needs from outside: where it runs, and how the pipeline's verify stage runs. */
export interface ReleaseDeps {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Runs `mcp-pipeline verify` in `cwd` for everyone to watch; resolves to its exit code. */
  runPipeline(cwd: string, env: NodeJS.ProcessEnv): Promise<number>;
  out(text: string): void;
  err(text: string): void;
}

/** The local pipeline run failed; nothing was changed. */
class PipelineFailedError extends Error {}

interface Options {
  skipPipeline?: boolean;
  branch?: string;
  remote: string;
}

function parseArgs(
  argv: string[],
  output: Pick<ReleaseDeps, "out" | "err">,
): { request: string; opts: Options } {
  const program = new Command("release")
    .description(
      "Check a clean tree on the default branch, run the pipeline locally without publishing, bump the version, commit it and create an annotated vX.Y.Z tag. Pushing is left to you.",
    )
    .argument("<version>", `${BUMPS.join(" | ")} | X.Y.Z (greater than package.json's version)`)
    .option(
      "--skip-pipeline",
      "do not run `mcp-pipeline verify` first (for tests and emergencies only: CI still runs it on the tag)",
    )
    .option(
      "--branch <name>",
      "the branch releases are cut from (default: $PIPELINE_DEFAULT_BRANCH, origin's HEAD, else main)",
    )
    .option("--remote <name>", "the remote named in the printed push command", "origin")
    .addHelpText(
      "after",
      "\nRun from the repository root. Exit codes: 0 tagged, 1 the pipeline or a git/npm step failed, 2 refused (bad version or repository state).\n",
    )
    .exitOverride()
    .configureOutput({ writeOut: output.out, writeErr: output.err })
    .showHelpAfterError();
  program.parse(argv);
  return { request: program.args[0] as string, opts: program.opts<Options>() };
}

async function assertCleanTree(cwd: string, env: NodeJS.ProcessEnv, after?: string): Promise<void> {
  const status = await git(cwd, ["status", "--porcelain", "--untracked-files=all"], env);
  if (status === "") return;
  const lines = status.split("\n");
  const shown = lines.slice(0, 20).map((line) => `  ${line}`);
  if (lines.length > shown.length) shown.push(`  … and ${lines.length - shown.length} more`);
  const when = after ? ` after ${after}` : "";
  throw new ReleaseRefusedError(
    `the working tree is not clean${when}; a release must be exactly a committed state:\n${shown.join("\n")}\nCommit, stash or ignore these, then run again.`,
  );
}

function readPackageVersion(cwd: string): string {
  const file = join(cwd, "package.json");
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ReleaseRefusedError(
      `cannot read ${file}: ${(err as Error).message}. Run the release from the repository root.`,
      { cause: err },
    );
  }
  const version = (parsed as { version?: unknown }).version;
  if (typeof version !== "string") {
    throw new ReleaseRefusedError(`${file} has no "version" field; add one (e.g. "0.1.0")`);
  }
  return version;
}

/**
 * The MCP Registry's listing follows the release: server.json's version and its OCI identifiers'
 * tags (the mcp-registry gate fails a release whose server.json names another version).
 */
function bumpServerJsonFile(file: string, version: string): void {
  if (!existsSync(file)) return;
  const bumped = bumpServerJson(readFileSync(file, "utf8"), version);
  if (bumped !== undefined) writeFileSync(file, bumped);
}

/** The branch releases are cut from: --branch, $PIPELINE_DEFAULT_BRANCH, origin's HEAD, else main (as ci/git/context.ts decides). */
async function releaseBranch(cwd: string, opts: Options, env: NodeJS.ProcessEnv): Promise<string> {
  if (opts.branch) return opts.branch;
  if (env.PIPELINE_DEFAULT_BRANCH?.trim()) return env.PIPELINE_DEFAULT_BRANCH.trim();
  const remoteHead = await gitQuery(
    cwd,
    ["symbolic-ref", "--short", "-q", `refs/remotes/${opts.remote}/HEAD`],
    env,
  );
  return remoteHead?.replace(/^[^/]+\//, "") ?? "main";
}

async function cut(argv: string[], deps: ReleaseDeps): Promise<number> {
  const { request, opts } = parseArgs(argv, deps);
  const { cwd, env } = deps;
  const say = (line: string) => deps.err(`release: ${line}\n`);
  if ((await gitQuery(cwd, ["rev-parse", "--verify", "-q", "HEAD"], env)) === undefined) {
    throw new ReleaseRefusedError(`${cwd} is not a git repository with at least one commit`);
  }
  const current = readPackageVersion(cwd);
  const version = nextVersion(current, request);
  const tag = releaseTag(version);

  await assertCleanTree(cwd, env);
  const branch = await gitQuery(cwd, ["symbolic-ref", "--short", "-q", "HEAD"], env);
  const wanted = await releaseBranch(cwd, opts, env);
  if (branch !== wanted) {
    throw new ReleaseRefusedError(
      `releases are cut from ${wanted}, but ${branch === undefined ? "HEAD is detached" : `the current branch is ${branch}`}; run \`git switch ${wanted}\` first (or pass --branch if ${wanted} is not your default branch)`,
    );
  }
  if (
    (await gitQuery(cwd, ["rev-parse", "--verify", "-q", `refs/tags/${tag}`], env)) !== undefined
  ) {
    throw new ReleaseRefusedError(
      `tag ${tag} already exists; pick a greater version, or delete the tag if it was never pushed (\`git tag -d ${tag}\`)`,
    );
  }
  say(`${current} → ${version} on ${branch}`);

  if (opts.skipPipeline) {
    say("skipping the local pipeline (--skip-pipeline); CI still runs it on the tag");
  } else {
    say("running `mcp-pipeline verify` (build and every gate, nothing is published)");
    const exitCode = await deps.runPipeline(cwd, env);
    if (exitCode !== 0) {
      throw new PipelineFailedError(
        `the pipeline failed (exit ${exitCode}); nothing was changed. Fix it, commit, and run the release again.`,
      );
    }
    await assertCleanTree(cwd, env, "the pipeline ran (is pipeline-report/ in .gitignore?)");
  }

  try {
    // npm rewrites package.json and package-lock.json (when present) the way `npm version` always does.
    await execa("npm", ["version", version, "--no-git-tag-version"], { cwd, env });
    bumpServerJsonFile(join(cwd, "server.json"), version);
    await git(cwd, ["add", "--update"], env);
    await git(cwd, ["commit", "--quiet", "-m", `release: ${tag}`], env);
    await git(cwd, ["tag", "--annotate", tag, "-m", `Release ${tag}`], env);
  } catch (err) {
    throw new Error(
      `bumping to ${version} failed: ${(err as Error).message}\nIf nothing was committed, \`git checkout -- .\` restores the tree.`,
      { cause: err },
    );
  }

  deps.out(
    `Tagged ${tag} (commit "release: ${tag}" on ${branch}). Push both to start the release workflow:\n\n  git push --atomic ${opts.remote} ${branch} ${tag}\n`,
  );
  return EXIT.ok;
}

/**
 * Cuts a release as `argv` asks (`[node, script, version, ...options]`) and resolves to the exit
 * code: 0 tagged, 1 the pipeline or a git/npm step failed, 2 refused (bad version or state).
 */
export async function release(argv: string[], deps: ReleaseDeps): Promise<number> {
  try {
    return await cut(argv, deps);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "commander.helpDisplayed" || code === "commander.version") return EXIT.ok;
    // commander has already printed the problem and the usage.
    if (code?.startsWith("commander.")) return EXIT.refused;
    if (err instanceof ReleaseRefusedError) {
      deps.err(`release: refused: ${err.message}\n`);
      return EXIT.refused;
    }
    deps.err(`release: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.failed;
  }
}
