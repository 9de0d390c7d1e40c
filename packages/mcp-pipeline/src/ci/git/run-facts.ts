import type { Config } from "../config/schema.js";
import { readServerName } from "../mcp/server-json.js";
import type { RunEnvironment } from "../request.js";
import { commitTime, resolveGitContext, sourceUrl } from "./context.js";
import { type ComputedTags, computeTags, type GitContext } from "./tags.js";

/** The label values a build gets, passed as the build args of the same names. */
export interface Labels {
  version: string;
  revision: string;
  created: string;
  source: string;
  /**
   * server.json's name (`MCP_SERVER_NAME`), for the `io.modelcontextprotocol.server.name` label
   * the MCP Registry checks; unset when the image is not an MCP server or has no server.json.
   */
  mcpServerName?: string | undefined;
}

/** What git says about a run: the ref and commit, the tags it gets, and the image's labels. */
export interface RunFacts {
  git: GitContext;
  computed: ComputedTags;
  labels: Labels;
}

/**
 * Asks git (or GitHub's variables) everything a run needs to know about its source, at once; and
 * server.json its name.
 */
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
    labels: {
      version: computed.version,
      revision: git.sha,
      created,
      source,
      ...withServerName(readServerName(cwd, config)),
    },
  };
}

// Absent rather than undefined, so a run without server.json keys as it did before.
const withServerName = (name: string | undefined) => (name ? { mcpServerName: name } : {});
