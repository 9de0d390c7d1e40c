// A real transparency log on loopback, standing in for rekor.sigstore.dev in the GitHub simulation:
// Rekor v1 (rekor-server) in front of Trillian (trillian_log_server + trillian_log_signer) on a
// throwaway PostgreSQL instance. Every binary is a pinned test-only Go tool (testGoTools); the
// database server is Debian's `postgresql`, installed when missing. Everything runs under one
// directory and stops with `stop()`.
import { type ChildProcess, spawn } from "node:child_process";
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { freePort } from "../../src/ci/docker/free-port.js";
import { running } from "../../src/host/process.js";
import { goBinary } from "../../src/toolchain/go.js";
import type { ToolchainPaths } from "../../src/toolchain/settings.js";
import { ensureTestGoTool, testGoTool } from "./test-go-tools.js";

/** The OS user the database server runs as: PostgreSQL refuses to run as root. */
const DB_USER = "postgres";
const DB_NAME = "trillian";
/** Rekor's API endpoints, without `searchIndex` (it needs Redis, which this stand-in does not run). */
const REKOR_ENDPOINTS = [
  "getLogInfo",
  "getPublicKey",
  "getLogProof",
  "createLogEntry",
  "getLogEntryByIndex",
  "getLogEntryByUUID",
  "searchLogQuery",
];

export interface RekorStandIn {
  /** `http://127.0.0.1:<port>`: what `--rekor-url` (REKOR_URL) names. */
  url: string;
  /** The log's public key (PEM), as the log serves it: what SIGSTORE_REKOR_PUBLIC_KEY names. */
  publicKeyFile: string;
  /** Where each process logs. */
  logs: string;
  /** The servers' process ids (PostgreSQL's postmaster, Trillian's two, Rekor). */
  pids: number[];
  stop(): Promise<void>;
}

/** The directory of Debian's PostgreSQL server binaries, installing `postgresql` when absent. */
async function postgresBin(note: (text: string) => void): Promise<string> {
  const find = () => {
    const root = "/usr/lib/postgresql";
    const versions = existsSync(root)
      ? readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "postgres")))
      : [];
    const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
    return newest ? join(root, newest, "bin") : undefined;
  };
  const found = find();
  if (found) return found;
  note("installing Debian's postgresql (apt-get) …");
  await execa("apt-get", ["install", "-y", "-q", "--no-install-recommends", "postgresql"], {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  const installed = find();
  if (!installed)
    throw new Error(
      "apt-get installed postgresql, but no server binary is under /usr/lib/postgresql",
    );
  return installed;
}

/** Trillian's PostgreSQL schema, from the pinned module's source in the Go module cache. */
async function trillianSchema(dir: string, env: NodeJS.ProcessEnv): Promise<string> {
  const tool = testGoTool("trillian_log_server");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "go.mod"), "module local/trillian-schema\n");
  const { stdout } = await execa(
    goBinary(env),
    ["mod", "download", "-json", `${tool.module}@v${tool.version}`],
    { cwd: dir, env },
  );
  const schema = join(
    (JSON.parse(stdout) as { Dir: string }).Dir,
    "storage",
    "postgresql",
    "schema",
    "storage.sql",
  );
  if (!existsSync(schema))
    throw new Error(`Trillian v${tool.version} has no PostgreSQL schema at ${schema}`);
  return schema;
}

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  child: ChildProcess,
  logFile: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${what} exited with ${child.exitCode} before it was ready: see ${logFile}`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${what} was not ready within ${timeoutMs / 1000} s: see ${logFile}`);
}

/** The database's directory under the temporary directory: `rekor-pg-<random>`. */
export const PG_ROOT_PREFIX = "rekor-pg-";
/** The process that started a directory (a database's, a simulation's): while it lives, the directory is in use. */
export const OWNER_FILE = "owner.pid";

/**
 * The directories under `parent` named `prefix…` whose owner file names a process that is gone:
 * what a hard-killed run left behind. A directory without the file (not one of ours, or one
 * being set up) is not listed.
 */
export function abandonedDirs(parent: string, prefix: string): string[] {
  return readdirSync(parent)
    .filter((name) => name.startsWith(prefix))
    .map((name) => join(parent, name))
    .filter((dir) => {
      try {
        return !running(Number(readFileSync(join(dir, OWNER_FILE), "utf8")));
      } catch {
        return false;
      }
    });
}

const httpOk = (url: string) => async () =>
  (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;

/**
 * Starts PostgreSQL, Trillian and Rekor under `dir` on free loopback ports, waits until Rekor
 * serves its public key, and writes that key to `<dir>/rekor.pub` (readable by anyone: the
 * runner user's cosign reads it). Needs root (the database runs as the `postgres` user). On any
 * failure what was started is stopped before the error is thrown.
 */
export async function startRekor(
  dir: string,
  paths: ToolchainPaths,
  env: NodeJS.ProcessEnv,
  note: (text: string) => void = () => {},
): Promise<RekorStandIn> {
  const bins = {
    rekor: await ensureTestGoTool(paths, env, "rekor-server", (n) => note(`[rekor-server] ${n}`)),
    server: await ensureTestGoTool(paths, env, "trillian_log_server", (n) =>
      note(`[trillian] ${n}`),
    ),
    signer: await ensureTestGoTool(paths, env, "trillian_log_signer", (n) =>
      note(`[trillian] ${n}`),
    ),
  };
  const pg = await postgresBin(note);
  const logs = join(dir, "logs");
  mkdirSync(logs, { recursive: true });
  // The database's own directory, owned by its user: `dir` may sit under one only root can enter.
  // What a hard-killed run left: its servers died with it (dieWithUs), their directory did not.
  for (const dir of abandonedDirs(tmpdir(), PG_ROOT_PREFIX))
    rmSync(dir, { recursive: true, force: true });
  const pgRoot = mkdtempSync(join(tmpdir(), PG_ROOT_PREFIX));
  writeFileSync(join(pgRoot, OWNER_FILE), String(process.pid));
  const data = join(pgRoot, "data");
  const socket = join(pgRoot, "socket");
  mkdirSync(socket, { recursive: true });
  await execa("chown", ["-R", `${DB_USER}:`, pgRoot]);
  const children: { name: string; child: ChildProcess }[] = [];
  // Every server dies with this process, however it ends: a hard-killed simulation (SIGKILL, an
  // out-of-memory kill) leaves no log, database or port behind. The kernel's parent-death signal
  // survives setpriv's change of user because setpriv sets it last, just before exec.
  const dieWithUs = ["--pdeathsig", "SIGKILL"];
  const asDbUser = [
    "setpriv",
    `--reuid=${DB_USER}`,
    `--regid=${DB_USER}`,
    "--init-groups",
    ...dieWithUs,
    "--",
  ];
  const start = (name: string, argv: string[]): { child: ChildProcess; log: string } => {
    const log = join(logs, `${name}.log`);
    const out = createWriteStream(log);
    const [cmd = "", ...args] =
      argv[0] === "setpriv" ? argv : ["setpriv", ...dieWithUs, "--", ...argv];
    const child = spawn(cmd, args, {
      cwd: pgRoot,
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir },
    });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    children.push({ name, child });
    return { child, log };
  };
  const stop = async () => {
    for (const { child } of children.splice(0).reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(pgRoot, { recursive: true, force: true });
  };
  try {
    note("PostgreSQL …");
    await execa(
      asDbUser[0] ?? "",
      [
        ...asDbUser.slice(1),
        join(pg, "initdb"),
        "-D",
        data,
        "-U",
        DB_NAME,
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
      ],
      { cwd: pgRoot },
    );
    const dbPort = await freePort();
    const db = start("postgres", [
      ...asDbUser,
      join(pg, "postgres"),
      "-D",
      data,
      "-p",
      String(dbPort),
      "-k",
      socket,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
    ]);
    const psql = (db_: string, ...args: string[]) =>
      execa(join(pg, "psql"), [
        "-h",
        "127.0.0.1",
        "-p",
        String(dbPort),
        "-U",
        DB_NAME,
        "-d",
        db_,
        "-v",
        "ON_ERROR_STOP=1",
        "-q",
        ...args,
      ]);
    await waitFor(
      "PostgreSQL",
      async () => (await psql("postgres", "-c", "SELECT 1")).exitCode === 0,
      db.child,
      db.log,
    );
    await psql("postgres", "-c", `CREATE DATABASE ${DB_NAME}`);
    await psql(DB_NAME, "-f", await trillianSchema(join(dir, "schema"), env));
    const uri = `postgresql:///${DB_NAME}?host=127.0.0.1&port=${dbPort}&user=${DB_NAME}`;
    const storage = [
      "--storage_system=postgresql",
      "--quota_system=postgresql",
      `--postgresql_uri=${uri}`,
    ];

    note("Trillian …");
    const [rpc, http, signerRpc, signerHttp] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const server = start("trillian_log_server", [
      bins.server,
      ...storage,
      `--rpc_endpoint=127.0.0.1:${rpc}`,
      `--http_endpoint=127.0.0.1:${http}`,
    ]);
    await waitFor(
      "trillian_log_server",
      httpOk(`http://127.0.0.1:${http}/healthz`),
      server.child,
      server.log,
    );
    const signer = start("trillian_log_signer", [
      bins.signer,
      ...storage,
      "--force_master",
      "--sequencer_interval=200ms",
      "--batch_size=100",
      `--rpc_endpoint=127.0.0.1:${signerRpc}`,
      `--http_endpoint=127.0.0.1:${signerHttp}`,
    ]);
    await waitFor(
      "trillian_log_signer",
      httpOk(`http://127.0.0.1:${signerHttp}/healthz`),
      signer.child,
      signer.log,
    );

    note("Rekor …");
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const rekor = start("rekor-server", [
      bins.rekor,
      "serve",
      "--trillian_log_server.address=127.0.0.1",
      `--trillian_log_server.port=${rpc}`,
      // No tree id: Rekor creates and initialises its tree in Trillian.
      "--trillian_log_server.tlog_id=0",
      "--rekor_server.address=127.0.0.1",
      `--port=${port}`,
      "--rekor_server.hostname=rekor.simulation.test",
      // An ephemeral signing key for checkpoints and entry timestamps, made at start.
      "--rekor_server.signer=memory",
      // No Redis: no search index.
      "--enable_retrieve_api=false",
      `--enabled_api_endpoints=${REKOR_ENDPOINTS.join(",")}`,
      "--log_type=prod",
    ]);
    await waitFor("rekor-server", httpOk(`${url}/api/v1/log`), rekor.child, rekor.log, 90_000);
    const key = await fetch(`${url}/api/v1/log/publicKey`);
    if (!key.ok)
      throw new Error(
        `rekor-server did not serve its public key (HTTP ${key.status}): see ${rekor.log}`,
      );
    const publicKeyFile = join(dir, "rekor.pub");
    writeFileSync(publicKeyFile, await key.text(), { mode: 0o644 });
    const pids = children.flatMap(({ child }) => (child.pid ? [child.pid] : []));
    return { url, publicKeyFile, logs, pids, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
