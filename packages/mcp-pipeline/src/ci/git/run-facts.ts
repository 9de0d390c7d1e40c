import type { RunEnvironment } from "../config/environment.js";
import type { Config } from "../config/schema.js";
import { commitTime, resolveGitContext, sourceUrl } from "./context.js";
import { type ComputedTags, computeTags, type GitContext } from "./tags.js";

/** The OCI label values a build gets from git, passed as the build args of the same names. */
export interface Labels {
  version: string;
  revision: string;
  created: string;
  source: string;
}

/** What git says about a run: the ref and commit, the tags it gets, and the image's labels. */
export interface RunFacts {
  git: GitContext;
  computed: ComputedTags;
  labels: Labels;
}

/** Asks git (or GitHub's variables) everything a run needs to know about its source, at once. */
export async function runFacts(
  cwd: string,
  config: Config,
  env: Pick<RunEnvironment, "githubGit" | "defaultBranch" | "githubRepositoryUrl">,
): Promise<RunFacts> {
  const [git, created, source] = await Promise.all([
    resolveGitContext(cwd, { github: env.githubGit, defaultBranch: env.defaultBranch }),
    commitTime(cwd),
    sourceUrl(cwd, env.githubRepositoryUrl),
  ]);
  const computed = computeTags(git, config.tags);
  return {
    git,
    computed,
    labels: { version: computed.version, revision: git.sha, created, source },
  };
}
