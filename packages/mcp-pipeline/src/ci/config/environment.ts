import { existsSync } from "node:fs";
import { ToolchainError } from "../../host/errors.js";
import {
  type EngineRegistries,
  type RegistryAuth,
  readToolchainRecord,
  type ToolchainRecord,
} from "../../toolchain/record.js";
import { EnvironmentError, GitContextError } from "../errors.js";
import type { GitContext } from "../git/tags.js";

/**
 * Everything the pipeline takes from its environment, read once at the edge
 * (with the configuration); nothing below `main` reads `process.env`.
 */
export interface RunEnvironment {
  /** A CI run (`CI=true` or `GITHUB_ACTIONS=true`): the repository is only read, never written. */
  ci: boolean;
  /** Air-gapped: no tool may try to download anything (`AIRGAP`, else what setup recorded). */
  offline: boolean;
  /** `REGISTRY_PASSWORD`, else `GITHUB_TOKEN` on GitHub Actions; only ever passed on as a secret. */
  registryPassword: string | undefined;
  /** The local authenticated registry `mcp-pipeline setup` provides, when it ran. */
  localRegistry: RegistryAuth | undefined;
  /** CA bundle handed to the image build as the `npm_ca` secret (`NPM_CA_FILE`). */
  npmCaFile: string | undefined;
  /** `GITHUB_STEP_SUMMARY`: where the Markdown report is appended. */
  stepSummaryFile: string | undefined;
  /** The git context GitHub Actions describes (`GITHUB_REF`, `GITHUB_SHA`, …), when it does. */
  githubGit: GitContext | undefined;
  /** `https://github.com/<owner>/<repo>` on GitHub Actions. */
  githubRepositoryUrl: string | undefined;
  /** `PIPELINE_DEFAULT_BRANCH`, when set: the branch tagged `edge`. */
  defaultBranch: string | undefined;
  /**
   * Where `mcp-pipeline` shows the summary once Dagger has finished
   * (`PIPELINE_SUMMARY_FILE`), and whether in colour; printed directly otherwise.
   */
  summary: { file: string; color: boolean } | undefined;
  /** `PIPELINE_TRACE_LOG`: Dagger's plain trace as it is written, to quote a failing build step. */
  traceLog: string | undefined;
  /** Where passed check results are kept for reuse (in the toolchain cache). */
  resultsDir: string;
  /**
   * The Dagger engine's registry settings (mirrors, plain HTTP) from the engine.json the CLI
   * gives it: where the replay check resolves base images, as the engine would.
   */
  registryHosts: EngineRegistries;
  /** This run's name in cached results: GitHub's run id and attempt, else a time stamp. */
  runId: string;
  signing: SigningEnvironment;
  /** The pinned versions of the tools the run uses, for provenance. */
  toolVersions: ToolchainRecord["toolVersions"];
}

/** What decides how the published image is signed, read once here. */
export interface SigningEnvironment {
  /** On GitHub Actions with `id-token: write`: the OIDC token cosign signs keylessly with. */
  githubOidc: boolean;
  /** `COSIGN_KEY` (the encrypted PEM, or a path to it) and `COSIGN_PASSWORD`, when given. */
  key: { pem: string; password: string } | { file: string; password: string } | undefined;
  /** The key pair `mcp-pipeline setup` made for the local registry, when it did. */
  localKey: { file: string; publicKey: string; password: string } | undefined;
  /** GitHub's variables the keyless identity is computed from. */
  github: Readonly<Record<string, string | undefined>>;
  /** What cosign's process gets: PATH, HOME, proxies, the OIDC request variables; no other secret. */
  cosignEnv: NodeJS.ProcessEnv;
}

const COSIGN_ENV = [
  "PATH",
  "HOME",
  "HTTPS_PROXY",
  "HTTP_PROXY",
  "NO_PROXY",
  "https_proxy",
  "http_proxy",
  "no_proxy",
  "SSL_CERT_FILE",
  "SIGSTORE_ROOT_FILE",
  "TUF_ROOT",
  "ACTIONS_ID_TOKEN_REQUEST_URL",
  "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
] as const;

function readSigning(
  env: Readonly<Record<string, string | undefined>>,
  localKey: ToolchainRecord["localCosignKey"],
): SigningEnvironment {
  const key = env.COSIGN_KEY;
  const password = env.COSIGN_PASSWORD ?? "";
  return {
    githubOidc:
      env.GITHUB_ACTIONS === "true" &&
      Boolean(env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN),
    key: key
      ? key.includes("-----BEGIN")
        ? { pem: key, password }
        : { file: key, password }
      : undefined,
    localKey,
    github: Object.fromEntries(
      ["GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_REF", "GITHUB_WORKFLOW_REF"].map((n) => [
        n,
        env[n],
      ]),
    ),
    cosignEnv: Object.fromEntries(
      COSIGN_ENV.filter((n) => env[n] !== undefined).map((n) => [n, env[n]]),
    ),
  };
}

const value = (env: Readonly<Record<string, string | undefined>>, name: string) => {
  const raw = env[name]?.trim();
  return raw === undefined || raw === "" ? undefined : raw;
};

/**
 * Reads the GitHub Actions context from the environment: `GITHUB_REF`, `GITHUB_SHA`,
 * `GITHUB_EVENT_NAME`, `GITHUB_BASE_REF`, and the default branch from `GITHUB_DEFAULT_BRANCH`
 * (not set by GitHub itself; a workflow can pass `github.event.repository.default_branch`),
 * else `main`. Returns undefined when `GITHUB_REF` is unset, i.e. outside Actions.
 * Throws GitContextError when `GITHUB_REF` is set but `GITHUB_SHA` is not.
 */
export function gitContextFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): GitContext | undefined {
  const value = (name: string): string | undefined => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === "" ? undefined : raw;
  };
  const ref = value("GITHUB_REF");
  if (ref === undefined) return undefined;
  const sha = value("GITHUB_SHA");
  if (sha === undefined) {
    throw new GitContextError(
      `GITHUB_REF is set (${ref}) but GITHUB_SHA is not; set both or neither`,
    );
  }
  return {
    ref,
    sha,
    defaultBranch: value("GITHUB_DEFAULT_BRANCH") ?? "main",
    eventName: value("GITHUB_EVENT_NAME"),
    baseRef: value("GITHUB_BASE_REF"),
  };
}

/** Reads the run's environment once; bad values throw an EnvironmentError naming the variable. */
export function readEnvironment(env: Readonly<Record<string, string | undefined>>): RunEnvironment {
  let record: ToolchainRecord;
  try {
    record = readToolchainRecord(env);
  } catch (err) {
    if (err instanceof ToolchainError) throw new EnvironmentError(err.message, { cause: err });
    throw err;
  }
  const npmCaFile = value(env, "NPM_CA_FILE");
  if (npmCaFile !== undefined && !existsSync(npmCaFile)) {
    throw new EnvironmentError(
      `NPM_CA_FILE names ${npmCaFile}, which does not exist; point it at a PEM bundle or unset it`,
    );
  }
  const repository = value(env, "GITHUB_REPOSITORY");
  return {
    offline: record.offline,
    ci: env.CI === "true" || env.CI === "1" || env.GITHUB_ACTIONS === "true",
    // Not trimmed: a password is used exactly as given.
    registryPassword: env.REGISTRY_PASSWORD || env.GITHUB_TOKEN || undefined,
    localRegistry: record.localRegistry,
    npmCaFile,
    stepSummaryFile: value(env, "GITHUB_STEP_SUMMARY"),
    githubGit: gitContextFromEnv(env),
    githubRepositoryUrl: repository
      ? `${value(env, "GITHUB_SERVER_URL") ?? "https://github.com"}/${repository}`
      : undefined,
    defaultBranch: value(env, "PIPELINE_DEFAULT_BRANCH"),
    summary: value(env, "PIPELINE_SUMMARY_FILE")
      ? {
          file: value(env, "PIPELINE_SUMMARY_FILE") as string,
          color: value(env, "PIPELINE_SUMMARY_COLOR") === "1",
        }
      : undefined,
    traceLog: value(env, "PIPELINE_TRACE_LOG"),
    resultsDir: record.resultsDir,
    registryHosts: record.engineRegistries,
    runId: value(env, "GITHUB_RUN_ID")
      ? `github-${value(env, "GITHUB_RUN_ID")}-${value(env, "GITHUB_RUN_ATTEMPT") ?? "1"}`
      : `local-${new Date()
          .toISOString()
          .replace(/[-:]/g, "")
          .replace(/\.\d+Z$/, "Z")}`,
    signing: readSigning(env, record.localCosignKey),
    toolVersions: record.toolVersions,
  };
}
