import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { ToolchainError } from "../host/errors.js";
import { NETWORK_ENV } from "../host/exec.js";
import { isCi } from "../host/terminal.js";
import {
  type EngineRegistries,
  type RegistryAuth,
  readToolchainRecord,
  type ToolchainRecord,
} from "../toolchain/state.js";
import { overridesFrom, parseArgs, type Stage } from "./command.js";
import { loadConfig } from "./config/load.js";
import type { Config } from "./config/schema.js";
import { EnvironmentError, GitContextError } from "./errors.js";
import type { GitContext } from "./git/tags.js";

// What a run is asked to do: the command line, the configuration and the environment, read once.
// Both entry points read it this way: `main.ts` (under Dagger) and `replay.ts` (before it).

export interface PipelineRequest {
  stage: Stage;
  /** The loaded configuration; `reportDir` absolute. */
  config: Config;
  environment: RunEnvironment;
  cwd: string;
  /** False with `--no-publish`: never push, whatever the ref. */
  publish: boolean;
  /** Check ids to report as skipped. */
  skip: readonly string[];
  /** With the `contract` stage: write the running image's tool contract as the snapshot. */
  updateContract?: boolean | undefined;
  /** False with `--no-cache`: every check runs, whatever ran before. */
  useCache?: boolean | undefined;
  /** False with `--no-sign`: publish unsigned (the signature check reports it skipped). */
  sign?: boolean | undefined;
}

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
  /**
   * A private transparency log's public key: `REKOR_PUBLIC_KEY` (the PEM, or a path to it), else
   * cosign's `SIGSTORE_REKOR_PUBLIC_KEY` (a path).
   */
  rekorPublicKey: string | undefined;
}

const COSIGN_ENV = [
  "PATH",
  "HOME",
  ...NETWORK_ENV,
  "SIGSTORE_ROOT_FILE",
  "TUF_ROOT",
  "ACTIONS_ID_TOKEN_REQUEST_URL",
  "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
] as const;

function readSigning(
  env: Readonly<Record<string, string | undefined>>,
): Omit<SigningEnvironment, "localKey"> {
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
    github: Object.fromEntries(
      ["GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_REF", "GITHUB_WORKFLOW_REF"].map((n) => [
        n,
        env[n],
      ]),
    ),
    cosignEnv: Object.fromEntries(
      COSIGN_ENV.filter((n) => env[n] !== undefined).map((n) => [n, env[n]]),
    ),
    rekorPublicKey:
      env.REKOR_PUBLIC_KEY?.trim() || env.SIGSTORE_REKOR_PUBLIC_KEY?.trim() || undefined,
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
  const ref = value(env, "GITHUB_REF");
  if (ref === undefined) return undefined;
  const sha = value(env, "GITHUB_SHA");
  if (sha === undefined) {
    throw new GitContextError(
      `GITHUB_REF is set (${ref}) but GITHUB_SHA is not; set both or neither`,
    );
  }
  return {
    ref,
    sha,
    defaultBranch: value(env, "GITHUB_DEFAULT_BRANCH") ?? "main",
    eventName: value(env, "GITHUB_EVENT_NAME"),
    baseRef: value(env, "GITHUB_BASE_REF"),
  };
}

/** Reads the run's environment once; bad values throw an EnvironmentError naming the variable. */
export function readEnvironment(env: Readonly<Record<string, string | undefined>>): RunEnvironment {
  const npmCaFile = value(env, "NPM_CA_FILE");
  if (npmCaFile !== undefined && !existsSync(npmCaFile)) {
    throw new EnvironmentError(
      `NPM_CA_FILE names ${npmCaFile}, which does not exist; point it at a PEM bundle or unset it`,
    );
  }
  const repository = value(env, "GITHUB_REPOSITORY");
  const runId = value(env, "GITHUB_RUN_ID");
  const summaryFile = value(env, "PIPELINE_SUMMARY_FILE");
  const fromVariables = {
    ci: isCi(env),
    // Not trimmed: a password is used exactly as given.
    registryPassword: env.REGISTRY_PASSWORD || env.GITHUB_TOKEN || undefined,
    npmCaFile,
    stepSummaryFile: value(env, "GITHUB_STEP_SUMMARY"),
    githubGit: gitContextFromEnv(env),
    githubRepositoryUrl: repository
      ? `${value(env, "GITHUB_SERVER_URL") ?? "https://github.com"}/${repository}`
      : undefined,
    defaultBranch: value(env, "PIPELINE_DEFAULT_BRANCH"),
    summary: summaryFile
      ? { file: summaryFile, color: value(env, "PIPELINE_SUMMARY_COLOR") === "1" }
      : undefined,
    traceLog: value(env, "PIPELINE_TRACE_LOG"),
    runId: runId
      ? `github-${runId}-${value(env, "GITHUB_RUN_ATTEMPT") ?? "1"}`
      : `local-${new Date()
          .toISOString()
          .replace(/[-:]/g, "")
          .replace(/\.\d+Z$/, "Z")}`,
    signing: readSigning(env),
  };
  let record: ToolchainRecord;
  try {
    record = readToolchainRecord(env);
  } catch (err) {
    if (err instanceof ToolchainError) throw new EnvironmentError(err.message, { cause: err });
    throw err;
  }
  return {
    ...fromVariables,
    offline: record.offline,
    localRegistry: record.localRegistry,
    resultsDir: record.resultsDir,
    registryHosts: record.engineRegistries,
    signing: { ...fromVariables.signing, localKey: record.localCosignKey },
    toolVersions: record.toolVersions,
  };
}

/** The request `argv` makes in `cwd`: arguments parsed, configuration and environment loaded. */
export function readRequest(
  argv: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  options: { quiet?: boolean } = {},
): PipelineRequest {
  const { stage, opts } = parseArgs(argv, options);
  const environment = readEnvironment(env);
  const loaded = loadConfig({
    cwd,
    file: opts.config,
    env,
    overrides: overridesFrom(opts),
    overridesSource: "command-line options",
  });
  const config: Config = { ...loaded, reportDir: resolve(cwd, loaded.reportDir) };
  return {
    stage,
    config,
    environment,
    cwd,
    publish: opts.publish,
    skip: opts.skip,
    updateContract: opts.update === true,
    useCache: opts.cache,
    sign: opts.sign,
  };
}
