import hostedGitInfo from "hosted-git-info";
import semver from "semver";
import { gitQuery } from "./git.js";
import type { GitContext } from "./tags.js";

/**
 * The git context of a build: GitHub Actions' (`github`) when present, else the
 * local checkout (an exact `v*` tag on HEAD wins over the branch). Outside any
 * repository it is a detached build of `0000000`.
 */
export async function resolveGitContext(
  cwd: string,
  from: { github?: GitContext | undefined; defaultBranch?: string | undefined } = {},
): Promise<GitContext> {
  if (from.github) return from.github;
  // Independent questions: asked at once.
  const [head, tag, branch, remoteHead] = await Promise.all([
    gitQuery(cwd, ["rev-parse", "HEAD"]),
    gitQuery(cwd, ["describe", "--tags", "--exact-match", "--match", "v*", "HEAD"]),
    gitQuery(cwd, ["symbolic-ref", "--short", "-q", "HEAD"]),
    gitQuery(cwd, ["symbolic-ref", "--short", "-q", "refs/remotes/origin/HEAD"]),
  ]);
  const sha = head ?? "0000000";
  const defaultBranch = from.defaultBranch ?? remoteHead?.replace(/^origin\//, "") ?? "main";
  const ref = tag ? `refs/tags/${tag}` : branch ? `refs/heads/${branch}` : "HEAD";
  return { ref, sha, defaultBranch, eventName: "local" };
}

/**
 * A remote URL as a browsable `https://host/owner/repo` for the OCI source
 * label: every form git accepts (`git@host:o/r.git`, `ssh://git@host/o/r.git`,
 * `git+https://…`), credentials dropped; "unknown" when it is not a URL.
 */
export function browsableUrl(remote: string): string {
  const known = hostedGitInfo.fromUrl(remote, { noCommittish: true, noGitPlus: true });
  if (known) return known.browse();
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/)(.+)$/.exec(remote);
  const candidate = scp ? `ssh://${scp[1]}/${scp[2]}` : remote.replace(/^git\+/, "");
  try {
    const url = new URL(candidate);
    const path = url.pathname.replace(/\.git$/, "").replace(/\/+$/, "");
    return `https://${url.hostname}${path}`;
  } catch {
    return "unknown";
  }
}

/** The source repository for the OCI source label: GitHub's (`githubUrl`), else the `origin` remote's. */
export async function sourceUrl(cwd: string, githubUrl?: string): Promise<string> {
  if (githubUrl) return githubUrl;
  const origin = await gitQuery(cwd, ["remote", "get-url", "origin"]);
  return origin ? browsableUrl(origin) : "unknown";
}

/** Commit time of HEAD in RFC 3339, for reproducible `created` labels; now when unknown. */
export async function commitTime(cwd: string): Promise<string> {
  const out = await gitQuery(cwd, ["log", "-1", "--format=%cI"]);
  return out ? new Date(out).toISOString() : new Date().toISOString();
}

/** The highest `v*` release tag below `version` (semver order), without its `v`; undefined when none. */
export async function previousRelease(cwd: string, version: string): Promise<string | undefined> {
  const tags = (await gitQuery(cwd, ["tag", "--list", "v*"]))?.split("\n") ?? [];
  const earlier = tags
    .map((tag) => semver.valid(tag.trim().replace(/^v/, "")))
    .filter((v): v is string => v !== null && semver.lt(v, version));
  return earlier.sort(semver.rcompare)[0];
}
