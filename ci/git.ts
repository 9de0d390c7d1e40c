import { execa } from "execa";
import { type GitContext, gitContextFromEnv } from "./tags.js";

async function git(cwd: string, args: string[]): Promise<string | undefined> {
  const res = await execa("git", args, { cwd, reject: false });
  return res.exitCode === 0 ? String(res.stdout).trim() : undefined;
}

/**
 * The git context of a build: GitHub Actions' variables when present, else the
 * local checkout (an exact `v*` tag on HEAD wins over the branch). Outside any
 * repository it is a detached build of `0000000`.
 */
export async function resolveGitContext(
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<GitContext> {
  const fromEnv = gitContextFromEnv(env);
  if (fromEnv) return fromEnv;
  const sha = (await git(cwd, ["rev-parse", "HEAD"])) ?? "0000000";
  const tag = await git(cwd, ["describe", "--tags", "--exact-match", "--match", "v*", "HEAD"]);
  const branch = await git(cwd, ["symbolic-ref", "--short", "-q", "HEAD"]);
  const remoteHead = await git(cwd, ["symbolic-ref", "--short", "-q", "refs/remotes/origin/HEAD"]);
  const defaultBranch =
    env.PIPELINE_DEFAULT_BRANCH ?? remoteHead?.replace(/^origin\//, "") ?? "main";
  const ref = tag ? `refs/tags/${tag}` : branch ? `refs/heads/${branch}` : "HEAD";
  return { ref, sha, defaultBranch, eventName: "local" };
}

/** `https://github.com/<owner>/<repo>` from GitHub's variables or the `origin` remote, for the OCI source label. */
export async function sourceUrl(
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string> {
  if (env.GITHUB_REPOSITORY)
    return `${env.GITHUB_SERVER_URL ?? "https://github.com"}/${env.GITHUB_REPOSITORY}`;
  const origin = await git(cwd, ["remote", "get-url", "origin"]);
  if (!origin) return "unknown";
  // git@github.com:owner/repo.git → https://github.com/owner/repo; credentials in URLs are dropped.
  return origin
    .replace(/^git@([^:]+):/, "https://$1/")
    .replace(/\/\/[^@/]+@/, "//")
    .replace(/\.git$/, "");
}

/** Commit time of HEAD in RFC 3339, for reproducible `created` labels; now when unknown. */
export async function commitTime(cwd: string): Promise<string> {
  const out = await git(cwd, ["log", "-1", "--format=%cI"]);
  return out ? new Date(out).toISOString() : new Date().toISOString();
}
