// The GitHub simulation behind `npm run test:github` (simulate.ts) and the bounded e2e test: this
// repository's workflows run by nektos/act (pinned, built on demand) in host mode on a simulated
// ubuntu-24.04 runner — the non-root `runner` user with passwordless sudo, a fresh HOME with no
// toolchain cache, the Docker engine already running, the commit under test checked out by a
// stand-in of actions/checkout. Only third-party actions are stood in for (fixtures/actions); every
// `run:` step runs as written. GH_SIM_TEST_FILTER narrows the inner `npm test` while developing.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  cpSync,
  createWriteStream,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { build } from "esbuild";
import { execa } from "execa";
import { parseDocument } from "yaml";
import { toolchainEnv } from "../../src/toolchain/env.js";
import { toolchainPaths } from "../../src/toolchain/settings.js";
import { readState } from "../../src/toolchain/state.js";
import { versions } from "../../src/toolchain/versions.js";
import { REPO_ROOT } from "../paths.js";
import { buildReleaseMirror, type MirrorServer, serveMirror } from "../toolchain/release-mirror.js";
import { ensureAct } from "./act.js";
import { type ActJob, parseActLog } from "./act-log.js";
import { expectations, type SimEvent } from "./expectations.js";
import {
  GHCR_ADDRESS,
  type GhcrStandIn,
  IMAGE_NAME,
  judgePublished,
  publishedTags,
  startGhcr,
  verifySignedInLog,
} from "./ghcr.js";
import { abandonedDirs, OWNER_FILE, type RekorStandIn, startRekor } from "./rekor.js";
import { ensureRunnerUser, RUNNER_USER, type RunnerUser, seedToolCache } from "./runner.js";
import { judgeStepSummaries, stepSummariesFromLog } from "./step-summaries.js";
import { publishTestTrivyDb } from "./trivy-db.js";
import { loadWorkflow, thirdPartyActions } from "./workflows.js";

const FIXTURES = join(import.meta.dirname, "fixtures");
/** The repository the simulated workflows run for (package.json's `repository`). */
const REPOSITORY = "mcp-pipeline/mcp-pipeline";
/** The runner image's tool cache, where setup-node finds Node.js. */
const TOOL_CACHE = "/opt/hostedtoolcache";
const STAND_INS: Record<string, string> = {
  "actions/checkout": "checkout",
  "actions/setup-node": "setup-node",
  "actions/upload-artifact": "upload-artifact",
  "actions/download-artifact": "download-artifact",
  "github/codeql-action": "codeql-action",
};

/** One simulated run. */
export interface SimOptions {
  event: SimEvent;
  /** A pull request from a fork: no secrets, a read-only token. */
  fork: boolean;
  /** Only these jobs (act --job); all when empty. */
  jobs: string[];
  /** Keep the simulation's directory even when the run passed (a failed run's is always kept), or never keep it. */
  keep: boolean | "never";
  /** Edits to workflow files (by name) in the commit under test: the broken-workflow tests. */
  edit?: Record<string, (text: string) => string>;
  /**
   * Vitest filters narrowing the `test` job's `npm test` (GH_SIM_TEST_FILTER); the environment's
   * GH_SIM_TEST_FILTER when not given; the whole suite when neither is.
   */
  testFilter?: string[];
  /** Progress lines (stderr by default). */
  progress?: (line: string) => void;
}

/** What a simulated run did, job by job, judged against what the event requires. */
export interface SimResult {
  ok: boolean;
  jobs: ActJob[];
  /** Per job: "" when it ended as it must, else why not. */
  verdicts: Map<string, string>;
  /** Run-wide failures (SARIF, release). */
  other: string[];
  seconds: number;
  log: string;
  /** The runner user, to remove when this run created it. */
  user: RunnerUser;
}

/** The simulation's directories, all readable by the runner user. */
function layout(root: string) {
  return {
    root,
    bin: join(root, "bin"),
    actions: join(root, "actions"),
    source: join(root, "source.git"),
    workdir: join(root, "repo"),
    home: join(root, "home"),
    /** What each job's fresh HOME starts as (the checkout stand-in copies it). */
    homeTemplate: join(root, "home-template"),
    artifacts: join(root, "artifacts"),
    sarif: join(root, "sarif"),
    record: join(root, "record"),
    event: join(root, "event.json"),
    log: join(root, "act.jsonl"),
  };
}
type Layout = ReturnType<typeof layout>;

/** The working tree as it would be committed, as one commit on top of HEAD, in a bare repository. */
async function commitUnderTest(
  sim: Layout,
  branch: string,
  tag: string | undefined,
  edit: SimOptions["edit"],
): Promise<string> {
  await execa("git", ["clone", "--quiet", "--no-hardlinks", REPO_ROOT, sim.workdir]);
  const diff = await execa("git", ["diff", "HEAD", "--binary"], {
    cwd: REPO_ROOT,
    stripFinalNewline: false,
  });
  if (diff.stdout !== "")
    await execa("git", ["apply", "--whitespace=nowarn"], { cwd: sim.workdir, input: diff.stdout });
  const untracked = await execa("git", ["ls-files", "--others", "--exclude-standard"], {
    cwd: REPO_ROOT,
  });
  for (const file of untracked.stdout.split("\n").filter(Boolean)) {
    mkdirSync(dirname(join(sim.workdir, file)), { recursive: true });
    cpSync(join(REPO_ROOT, file), join(sim.workdir, file));
  }
  for (const [file, change] of Object.entries(edit ?? {})) {
    const path = join(sim.workdir, ".github", "workflows", file);
    writeFileSync(path, change(readFileSync(path, "utf8")));
  }
  if (tag) releaseToStandIn(sim.workdir);
  const git = (...args: string[]) => execa("git", args, { cwd: sim.workdir });
  await git("checkout", "-q", "-B", branch);
  await git("add", "-A");
  await git(
    "-c",
    "user.name=simulation",
    "-c",
    "user.email=simulation@localhost",
    "commit",
    "-q",
    "--allow-empty",
    "-m",
    "the commit under test",
  );
  if (tag) await git("tag", tag);
  await git("remote", "set-url", "origin", `https://github.com/${REPOSITORY}.git`);
  const sha = (await git("rev-parse", "HEAD")).stdout.trim();
  await execa("git", ["clone", "--quiet", "--bare", sim.workdir, sim.source]);
  return sha;
}

/**
 * A release names the image it publishes in server.json, and the mcp-registry gate holds it to
 * that (src/ci/mcp/server-json.ts): ghcr.io/<owner>/<repo>, which the simulation cannot serve. The
 * commit under test of a tag names GHCR's stand-in instead, as a repository releasing to that
 * registry would: its repository as the OCI identifier, its host among the allowed registries.
 */
function releaseToStandIn(workdir: string): void {
  const serverJson = join(workdir, "server.json");
  const server = JSON.parse(readFileSync(serverJson, "utf8")) as {
    packages?: { registryType?: string; identifier?: string }[];
  };
  for (const pkg of server.packages ?? []) {
    if (pkg.registryType === "oci" && pkg.identifier) {
      const tag = pkg.identifier.split(":").at(-1);
      pkg.identifier = `${GHCR_ADDRESS}/${IMAGE_NAME}:${tag}`;
    }
  }
  writeFileSync(serverJson, `${JSON.stringify(server, null, 2)}\n`);
  const configFile = join(workdir, "pipeline.config.yaml");
  const config = parseDocument(readFileSync(configFile, "utf8"));
  config.setIn(["mcp", "registry", "allowedRegistries"], [GHCR_ADDRESS]);
  writeFileSync(configFile, config.toString());
}

function eventPayload(opts: SimOptions, sha: string, tag: string): Record<string, unknown> {
  const [owner = "", name = ""] = REPOSITORY.split("/");
  const repository = {
    full_name: REPOSITORY,
    name,
    owner: { login: owner },
    default_branch: "main",
    private: false,
  };
  if (opts.event === "pull_request") {
    const head = opts.fork ? `contributor/${name}` : REPOSITORY;
    return {
      action: "synchronize",
      number: 20,
      pull_request: {
        number: 20,
        head: { ref: "feature", sha, repo: { full_name: head } },
        base: { ref: "main", sha, repo: { full_name: REPOSITORY } },
      },
      repository,
    };
  }
  const ref = opts.event === "tag" ? `refs/tags/${tag}` : "refs/heads/main";
  return { ref, before: "0".repeat(40), after: sha, head_commit: { id: sha }, repository };
}

/** Bundles the SARIF validator into the upload-sarif stand-in (the runner has no node_modules of ours). */
async function prepareActions(sim: Layout): Promise<void> {
  cpSync(join(FIXTURES, "actions"), sim.actions, { recursive: true });
  await build({
    entryPoints: [join(import.meta.dirname, "validate-sarif.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: join(sim.actions, "codeql-action", "upload-sarif", "validate-sarif.mjs"),
    logLevel: "warning",
  });
  mkdirSync(sim.bin, { recursive: true });
  cpSync(join(FIXTURES, "bin", "gh"), join(sim.bin, "gh"));
  chmodSync(join(sim.bin, "gh"), 0o755);
}

/**
 * The runner's Dagger engine config, naming the local pull mirror as Docker Hub's mirror: the
 * runner pulls `node:24-bookworm-slim` from Docker Hub, this machine cannot; and GHCR's stand-in
 * as plain HTTP. Setup merges its
 * own registries into it, as into any user's config.
 */
function seedEngineConfig(sim: Layout, pullMirror: string | undefined): void {
  if (!pullMirror) return;
  const dir = join(sim.homeTemplate, ".config", "dagger");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "engine.json"),
    JSON.stringify({
      registries: {
        "docker.io": { mirrors: [pullMirror] },
        [pullMirror]: { http: true },
        // GHCR's stand-in speaks plain HTTP (GHCR itself is HTTPS).
        [GHCR_ADDRESS]: { http: true },
      },
    }),
  );
}

/** The tags an event must publish: none for pull requests, edge and sha-<7> on main, the semver set for a tag. */
function mustPublish(event: SimEvent, sha: string, tag: string): string[] {
  if (event === "pull_request") return [];
  if (event === "push") return ["edge", `sha-${sha.slice(0, 7)}`];
  // The bare major is skipped for 0.x (src/ci/git/tags.ts).
  const [major, minor] = tag.slice(1).split(".");
  return [tag.slice(1), `${major}.${minor}`, ...(major === "0" ? [] : [`${major}`]), "latest"];
}

/**
 * Stops what the jobs left running as the runner user under this simulation's directory (the
 * local registry a job's setup starts): a hosted runner's machine goes away with the job; this
 * one does not. Only processes whose command line names the simulation's directory.
 */
async function stopLeftovers(root: string): Promise<void> {
  const ps = await execa("ps", ["-u", RUNNER_USER, "-o", "pid=,args="], { reject: false });
  for (const line of ps.stdout.split("\n")) {
    const [pid, ...args] = line.trim().split(/\s+/);
    if (pid && args.join(" ").includes(`${root}/`)) {
      try {
        process.kill(Number(pid), "SIGTERM");
      } catch {
        // Gone already.
      }
    }
  }
}

/**
 * Removes the Dagger engine containers the jobs of one simulation started (one per job), with
 * their state volumes (`-v`): each engine's anonymous /var/lib/dagger holds about 1.7 GB.
 */
async function removeEngines(simId: string): Promise<void> {
  const ids = await execa("docker", ["ps", "-aq", "--filter", `name=gh-sim-${simId}-`]);
  const list = ids.stdout.split(/\s+/).filter(Boolean);
  if (list.length > 0) await execa("docker", ["rm", "-f", "-v", ...list], { reject: false });
}

/** The job that calls pipeline.yml for each event. */
const PIPELINE_JOB: Record<SimEvent, string> = {
  pull_request: "verify",
  push: "publish",
  tag: "pipeline",
};

function workflowFor(event: SimEvent): string {
  return event === "tag" ? "release.yml" : "ci.yml";
}

/** act's arguments: host mode, the stand-ins for every pinned third-party action, the event and secrets. */
function actArgs(
  opts: SimOptions,
  sim: Layout,
  secrets: Record<string, string>,
  actor: string,
  vars: Record<string, string> = {},
): string[] {
  const workflow = workflowFor(opts.event);
  const args = [
    opts.event === "pull_request" ? "pull_request" : "push",
    "--workflows",
    join(".github", "workflows", workflow),
    "--eventpath",
    sim.event,
    "-P",
    "ubuntu-24.04=-self-hosted",
    "--no-skip-checkout",
    "--action-offline-mode",
    "--json",
    "--actor",
    actor,
  ];
  for (const { repo, ref } of thirdPartyActions([workflow, "pipeline.yml"])) {
    const standIn = STAND_INS[repo];
    if (!standIn) throw new Error(`no stand-in for ${repo}@${ref}: add one under ${FIXTURES}`);
    args.push("--local-repository", `${repo}@${ref}=${join(sim.actions, standIn)}`);
  }
  for (const [name, value] of Object.entries(secrets)) args.push("-s", `${name}=${value}`);
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}=${value}`);
  for (const job of opts.jobs) args.push("--job", job);
  return args;
}

/** The runner's environment: what a hosted runner has, plus where the stand-ins keep things. */
function runnerEnv(
  sim: Layout,
  extra: Record<string, string>,
  testFilter: string[] | undefined,
): Record<string, string> {
  const env: Record<string, string> = {
    HOME: sim.home,
    USER: RUNNER_USER,
    LOGNAME: RUNNER_USER,
    SHELL: "/bin/bash",
    LANG: "C.UTF-8",
    CI: "true",
    PATH: `${sim.bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    GH_SIM_SOURCE: sim.source,
    GH_SIM_TOOL_CACHE: TOOL_CACHE,
    GH_SIM_ARTIFACTS: sim.artifacts,
    GH_SIM_SARIF: sim.sarif,
    GH_SIM_RECORD: sim.record,
    GH_SIM_HOME_TEMPLATE: sim.homeTemplate,
    GH_SIM_ID: basename(sim.root),
    GH_SIM_DAGGER_VERSION: versions.dagger,
    ...extra,
  };
  // This machine reaches the npm registry through a TLS-inspecting proxy whose CA is in the system bundle.
  for (const name of ["NODE_EXTRA_CA_CERTS", "GOPROXY", "GOFLAGS"]) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  const filter = testFilter?.join(" ") ?? process.env.GH_SIM_TEST_FILTER;
  if (filter) env.GH_SIM_TEST_FILTER = filter;
  return env;
}

async function runAct(
  act: string,
  sim: Layout,
  args: string[],
  env: Record<string, string>,
  progress: (line: string) => void,
): Promise<number> {
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const child = spawn("sudo", ["-u", RUNNER_USER, "--", "env", "-i", ...envArgs, act, ...args], {
    cwd: sim.workdir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = createWriteStream(sim.log);
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  let last = 0;
  child.stdout.on("data", (chunk: Buffer) => {
    // A progress line at most every 30 s: which job and step act is in.
    if (Date.now() - last < 30_000) return;
    last = Date.now();
    const line = chunk.toString().trim().split("\n").at(-1) ?? "";
    try {
      const entry = JSON.parse(line) as { jobID?: string; step?: string };
      progress(`  … ${entry.jobID ?? "?"}: ${entry.step ?? ""}`);
    } catch {}
  });
  return new Promise((resolve) => child.on("close", (code) => resolve(code ?? 1)));
}

const SIM_PREFIX = "gh-sim-";

/**
 * What a hard-killed simulation left running (SIGKILL runs no cleanup): the runner user's
 * processes naming its directory (act, the jobs' local registry) and its Dagger engine containers.
 * Rekor and its servers died with it (rekor.ts). Its directory stays, like a failed run's, for
 * its logs. A simulation that ended removes its owner file. Run before each simulation.
 */
async function removeAbandoned(progress: (line: string) => void): Promise<void> {
  for (const root of abandonedDirs("/tmp", SIM_PREFIX)) {
    progress(`[sim] stopping what an interrupted simulation left running: ${root}`);
    await stopLeftovers(root);
    await removeEngines(basename(root));
    rmSync(join(root, OWNER_FILE), { force: true });
  }
}

/** Runs the event's workflow under act as the runner user and judges every job. Needs root. */
export async function simulate(opts: SimOptions): Promise<SimResult> {
  const progress = opts.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = Date.now();
  const paths = toolchainPaths();
  await removeAbandoned(progress);
  const id = `${opts.event}${opts.fork ? "-fork" : ""}-${randomBytes(3).toString("hex")}`;
  const sim = layout(join("/tmp", `${SIM_PREFIX}${id}`));
  mkdirSync(sim.root, { recursive: true, mode: 0o755 });
  writeFileSync(join(sim.root, OWNER_FILE), String(process.pid));
  const user = await ensureRunnerUser();
  const act = await ensureAct(paths, toolchainEnv(paths), (n) => progress(`[act] ${n}`));
  const node = await seedToolCache(TOOL_CACHE, dirname(process.execPath));
  await prepareActions(sim);
  cpSync(act, join(sim.bin, "act"));
  const version = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"))
    .version as string;
  const tag = `v${version}`;
  const branch = opts.event === "pull_request" ? "feature" : "main";
  const sha = await commitUnderTest(sim, branch, opts.event === "tag" ? tag : undefined, opts.edit);
  writeFileSync(sim.event, JSON.stringify(eventPayload(opts, sha, tag), null, 2));
  for (const dir of [sim.home, sim.homeTemplate, sim.artifacts, sim.sarif, sim.record])
    mkdirSync(dir, { recursive: true });
  await execa("chown", ["-R", `${RUNNER_USER}:${RUNNER_USER}`, sim.root]);
  await execa("chmod", ["755", sim.root]);
  progress(
    `[sim] ${opts.event}${opts.fork ? " (fork)" : ""} at ${sha.slice(0, 7)} as ${user.name} (uid ${user.uid}), Node ${node}, in ${sim.root}`,
  );

  let secrets: Record<string, string> = {
    GITHUB_TOKEN: `read-only-${randomBytes(8).toString("hex")}`,
  };
  let actor = "simulation";
  let ghcr: GhcrStandIn | undefined;
  // The internet a hosted runner has, stood in for: release downloads from the release mirror the
  // online test serves (made from this machine's toolchain), Docker Hub from the local pull mirror.
  // Only the check job goes without (it runs no setup).
  let server: MirrorServer | undefined;
  let internet: Record<string, string> = {};
  if (opts.jobs.length === 0 || opts.jobs.some((job) => job !== "check")) {
    progress("[sim] release mirror …");
    const mirror = await buildReleaseMirror(paths.bin, join(sim.root, "mirror"));
    server = await serveMirror(mirror.dir);
    const pullMirror = readState(paths)?.registry.mirror ?? undefined;
    seedEngineConfig(sim, pullMirror);
    await execa("chown", ["-R", `${RUNNER_USER}:${RUNNER_USER}`, sim.root]);
    internet = { DOWNLOAD_MIRROR: server.url, DOWNLOAD_MIRROR_COSIGN_KEY: mirror.key.public };
    if (pullMirror) {
      // Trivy runs on the host: it reaches the mirror on loopback, where plain HTTP is allowed.
      const loopback = `127.0.0.1:${pullMirror.split(":")[1]}`;
      internet.TRIVY_DB_REPOSITORY = await publishTestTrivyDb(loopback, toolchainEnv(paths));
    }
    // GHCR: the tests' token-auth registry; the repository's secrets hold a cosign key pair.
    // A fork's pull request gets no secrets and a token that cannot push.
    ghcr = await startGhcr(join(sim.root, "cosign"), join(paths.bin, "cosign"));
    internet.REGISTRY = ghcr.registry.address;
    if (!opts.fork) {
      secrets = ghcr.secrets;
      actor = ghcr.actor;
    }
  }
  // rekor.sigstore.dev: a real Rekor on loopback, named by the repository variables a user of a
  // private Sigstore deployment sets (REKOR_URL, REKOR_PUBLIC_KEY; see pipeline.yml's inputs):
  // what the publishing jobs sign into, and on every event what the `test` job's own signing
  // runs use (ci.yml passes the variables to its `npm test`). GitHub gives a fork's pull request
  // no configuration variables, so its jobs would sign into the public log, which the simulation
  // cannot reach: a fork's `test` job is left to the pull request's own run.
  let rekor: RekorStandIn | undefined;
  let vars: Record<string, string> = {};
  if (!opts.fork && (opts.jobs.length === 0 || opts.jobs.some((j) => j !== "check"))) {
    progress("[sim] transparency log (Rekor, Trillian, PostgreSQL) …");
    try {
      rekor = await startRekor(join(sim.root, "rekor"), paths, toolchainEnv(paths), (n) =>
        progress(`[rekor] ${n}`),
      );
    } catch (error) {
      await server?.close();
      await ghcr?.close();
      throw error;
    }
    vars = {
      REKOR_URL: rekor.url,
      REKOR_PUBLIC_KEY: readFileSync(rekor.publicKeyFile, "utf8").trim(),
    };
  }
  const code = await runAct(
    join(sim.bin, "act"),
    sim,
    actArgs(opts, sim, secrets, actor, vars),
    runnerEnv(sim, internet, opts.testFilter),
    progress,
  ).finally(async () => {
    await server?.close();
    await removeEngines(basename(sim.root));
    await stopLeftovers(sim.root);
    rmSync(join(sim.root, OWNER_FILE), { force: true });
  });
  const signedInLog: string[] = [];
  const published = ghcr
    ? await publishedTags(ghcr.registry)
        .then(async (tags) => {
          const digest = tags.get(mustPublish(opts.event, sha, tag)[0] ?? "");
          if (ghcr && rekor && digest)
            signedInLog.push(
              ...(await verifySignedInLog(
                ghcr,
                digest,
                join(paths.bin, "cosign"),
                rekor,
                sim.root,
              )),
            );
          return tags;
        })
        .finally(async () => {
          await ghcr?.close();
          await rekor?.stop();
        })
    : undefined;
  const file = workflowFor(opts.event);
  const workflow = loadWorkflow(
    file,
    readFileSync(join(sim.workdir, ".github", "workflows", file), "utf8"),
  );
  const actLog = readFileSync(sim.log, "utf8");
  const jobs = parseActLog(actLog, workflow, opts.jobs);
  const results = expectations(opts, jobs, sim, code);
  if (published)
    results.other.push(...judgePublished(published, mustPublish(opts.event, sha, tag)));
  results.other.push(...signedInLog);
  const pipelineJob = PIPELINE_JOB[opts.event];
  const ranPipeline = jobs.some((j) => j.id === pipelineJob && j.result !== "skipped");
  results.other.push(
    ...judgeStepSummaries(
      stepSummariesFromLog(actLog, workflow),
      ranPipeline ? pipelineJob : undefined,
    ),
  );
  const ok = [...results.perJob.values()].every((v) => v === "") && results.other.length === 0;
  if (opts.keep === "never" || (ok && !opts.keep))
    rmSync(sim.root, { recursive: true, force: true });
  return {
    ok,
    jobs,
    verdicts: results.perJob,
    other: results.other,
    seconds: (Date.now() - started) / 1000,
    log: sim.log,
    user,
  };
}

/** How a failed step's output is indented under its job's line. */
export const OUTPUT_PREFIX = "     | ";

/**
 * One line per job (verdict, id, result, time, name, why, the failed step), under a failed job
 * what its failed step printed that says why, then run-wide failures.
 */
export function describeResult(result: SimResult): string[] {
  const lines = result.jobs.flatMap((job) => {
    const verdict = result.verdicts.get(job.id) ?? "";
    const time = job.seconds === undefined ? "-" : `${job.seconds.toFixed(0)}s`;
    const why = verdict ? ` — ${verdict}` : "";
    const step = job.failedStep ? ` (failed step: ${job.failedStep})` : "";
    const line = `${verdict === "" ? "ok  " : "FAIL"} ${job.id.padEnd(16)} ${job.result.padEnd(9)} ${time.padStart(6)}  ${job.name}${why}${step}`;
    const output = verdict === "" ? [] : (job.failedOutput ?? []);
    return [line, ...output.map((text) => `${OUTPUT_PREFIX}${text}`)];
  });
  return [...lines, ...result.other.map((problem) => `FAIL ${problem}`)];
}
