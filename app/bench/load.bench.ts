// `npm run bench:load`: concurrent MCP clients creating tasks through the MCP server for a fixed
// time, then a check that every acknowledged create is stored.
//
// By default it starts the real backend and MCP server as host processes on loopback with a
// fresh temp DATA_DIR; `--url` points it at a running stack instead. `--seed N` stores N tasks
// first; `--kill-backend` SIGKILLs and restarts the backend halfway through the run.
// `--revision` picks the wire: 2026-07-28 (stateless, per-request _meta) or 2025-11-25 (the
// initialize handshake); the clients are the v2 SDK's, pinned to that revision.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { bufferingFetch, keepAliveAgents } from "../shared/http-request.js";
import type { Task } from "../shared/task.js";
import { type AppProcess, cpuMs, rssMiB, startApp } from "./stack.js";

const EXIT_LOST_WRITES = 1;
const EXIT_USAGE = 2;
const HOST_TOKEN = `bench-${randomBytes(8).toString("hex")}`;
// The data file the JSON store reads, and the SQLite store imports on first start.
const LEGACY_DATA_FILE = "tasks.json";
const SEED_CONCURRENCY = 32;
const RSS_SAMPLE_MS = 250;

/** The protocol revisions the bench can speak, newest first. */
const REVISIONS = ["2026-07-28", "2025-11-25"] as const;
type Revision = (typeof REVISIONS)[number];
/** How the clients make HTTP requests: Node's HTTP client, or the built-in fetch. */
const CLIENT_HTTP = ["node", "fetch"] as const;
type ClientHttp = (typeof CLIENT_HTTP)[number];

interface Options {
  revision: Revision;
  clientHttp: ClientHttp;
  bundled: boolean;
  clients: number;
  duration: number;
  seed: number;
  killBackend: boolean;
  url?: string;
  backendUrl?: string;
  json: boolean;
}

function wholeNumber(name: string, min: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < min) {
      throw new InvalidArgumentError(`${name} must be a whole number ≥ ${min}, got "${value}".`);
    }
    return parsed;
  };
}

function httpUrl(value: string): string {
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw new InvalidArgumentError(`must be an http:// or https:// URL, got "${value}".`);
  }
  return value.replace(/\/+$/, "");
}

function parseOptions(argv: readonly string[]): Options {
  const command = new Command("bench:load")
    .description("Concurrent MCP clients creating tasks; throughput, latency, RSS and durability.")
    .addOption(
      new Option("--revision <revision>", "MCP protocol revision the clients speak")
        .choices(REVISIONS)
        .default(REVISIONS[0]),
    )
    .addOption(
      new Option(
        "--client-http <kind>",
        "how the clients send HTTP: node (Node's HTTP client, cheap on the CPU the servers share) or fetch",
      )
        .choices(CLIENT_HTTP)
        .default(CLIENT_HTTP[0]),
    )
    .addOption(
      new Option("--clients <n>", "concurrent MCP clients")
        .argParser(wholeNumber("--clients", 1))
        .default(16),
    )
    .addOption(
      new Option("--duration <seconds>", "how long the clients keep creating")
        .argParser(wholeNumber("--duration", 1))
        .default(20),
    )
    .addOption(
      new Option("--seed <n>", "tasks stored before the run starts")
        .argParser(wholeNumber("--seed", 0))
        .default(0),
    )
    .option("--kill-backend", "SIGKILL and restart the backend halfway through (host processes)")
    .option(
      "--bundled",
      "run the bundles `npm run build` makes (what the image ships), not the source",
    )
    .addOption(
      new Option("--url <mcp-url>", "use a running MCP server (…/mcp) instead of host processes")
        .argParser(httpUrl)
        .env("BENCH_MCP_URL"),
    )
    .addOption(
      new Option(
        "--backend-url <url>",
        "with --url: the backend, to seed and count through its REST API (token: SERVICE_AUTH_TOKEN)",
      )
        .argParser(httpUrl)
        .env("BENCH_BACKEND_URL"),
    )
    .option("--json", "print the summary as one JSON object")
    .exitOverride()
    .parse(argv);
  const options = command.opts<Options>();
  if (options.killBackend && options.url) {
    command.error("--kill-backend needs host processes; it cannot be combined with --url.", {
      exitCode: EXIT_USAGE,
    });
  }
  if (options.bundled && options.url) {
    command.error("--bundled needs host processes; it cannot be combined with --url.", {
      exitCode: EXIT_USAGE,
    });
  }
  if (options.backendUrl && !options.url) {
    command.error("--backend-url only applies together with --url.", { exitCode: EXIT_USAGE });
  }
  return {
    ...options,
    killBackend: options.killBackend === true,
    bundled: options.bundled === true,
    json: options.json === true,
  };
}

/** Where the load goes and how to reach the backend behind it. */
interface Target {
  revision: Revision;
  clientHttp: ClientHttp;
  mcpUrl: string;
  mcpHeaders: Record<string, string>;
  backend?: { url: string; token: string };
  describe: string;
  processes?: { backend: () => AppProcess; mcp: AppProcess };
  restartBackend?: () => Promise<number>;
  close: () => Promise<void>;
}

async function startHostStack(
  options: Pick<Options, "seed" | "revision" | "clientHttp" | "bundled">,
): Promise<{ target: Target; seedMs: number }> {
  const { seed, revision, clientHttp, bundled } = options;
  const dataDir = await mkdtemp(join(tmpdir(), "todo-load-"));
  const seedStarted = performance.now();
  if (seed > 0) await writeSeedFile(dataDir, seed);
  const backendEnv = {
    SERVICE_AUTH_TOKEN: HOST_TOKEN,
    DATA_DIR: dataDir,
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "info",
  };
  let backend: AppProcess;
  let mcp: AppProcess | undefined;
  try {
    backend = await startApp("backend", backendEnv, bundled);
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  // The seed counts as done once the backend serves it (the SQLite store imports it at start).
  const seedMs = performance.now() - seedStarted;
  const backendUrl = `http://127.0.0.1:${backend.port}`;
  const close = async () => {
    await Promise.all([mcp?.stop(), backend.stop()]);
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    mcp = await startApp(
      "mcp",
      {
        SERVICE_AUTH_TOKEN: HOST_TOKEN,
        BACKEND_BASE_URL: backendUrl,
        MCP_HOST: "127.0.0.1",
        PORT: "0",
        MCP_LOG_LEVEL: "info",
      },
      bundled,
    );
  } catch (error) {
    await close();
    throw error;
  }
  const port = backend.port;
  const target: Target = {
    revision,
    clientHttp,
    mcpUrl: `http://127.0.0.1:${mcp.port}/mcp`,
    mcpHeaders: {},
    backend: { url: backendUrl, token: HOST_TOKEN },
    describe: `host processes (node ${process.version}, ${bundled ? "bundles from dist/" : "source under tsx"}, data in ${dataDir})`,
    processes: { backend: () => backend, mcp },
    restartBackend: async () => {
      const started = performance.now();
      await backend.stop("SIGKILL");
      backend = await startApp("backend", { ...backendEnv, PORT: String(port) }, bundled);
      return performance.now() - started;
    },
    close,
  };
  return { target, seedMs };
}

/** Writes `count` tasks as a version 1 tasks.json, the data file of the JSON store. */
async function writeSeedFile(dataDir: string, count: number): Promise<void> {
  const start = Date.now() - count;
  const tasks: Task[] = Array.from({ length: count }, (_, i) => {
    const at = new Date(start + i).toISOString();
    return {
      id: randomUUID(),
      title: `seed task ${i}`,
      description: i % 3 === 0 ? `seeded description ${i}` : null,
      priority: (["low", "medium", "high"] as const)[i % 3] ?? "medium",
      due_date: i % 5 === 0 ? "2030-01-01" : null,
      status: i % 4 === 0 ? "completed" : "pending",
      created_at: at,
      updated_at: at,
      completed_at: i % 4 === 0 ? at : null,
    };
  });
  await writeFile(join(dataDir, LEGACY_DATA_FILE), JSON.stringify({ version: 1, tasks }), {
    mode: 0o600,
  });
}

// One connection pool for all clients, as one host with many agents would have.
const clientAgents = keepAliveAgents(256);

/** A client speaking exactly `target.revision`; connecting fails if the server does not. */
async function connect(target: Target): Promise<Client> {
  const client = new Client(
    { name: "bench-load", version: "1.0.0" },
    {
      versionNegotiation: {
        // The v2 client's legacy mode is the plain 2025-11-25 handshake.
        mode: target.revision === "2025-11-25" ? "legacy" : { pin: target.revision },
      },
    },
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(target.mcpUrl), {
      requestInit: { headers: target.mcpHeaders },
      // The clients share the machine's CPU with the servers they measure; the built-in fetch
      // costs them several times what Node's HTTP client does per call.
      ...(target.clientHttp === "node" ? { fetch: bufferingFetch(clientAgents) } : {}),
    }),
  );
  const negotiated = client.getNegotiatedProtocolVersion();
  if (negotiated !== target.revision) {
    await client.close();
    throw new Error(
      `${target.describe} negotiated MCP ${negotiated ?? "no version"}, not ${target.revision}.`,
    );
  }
  return client;
}

type CreateOutcome = { ok: true; id: string } | { ok: false; error: string };

async function createTask(client: Client, title: string): Promise<CreateOutcome> {
  try {
    const result = await client.callTool({
      name: "create_task",
      arguments: { title, priority: "low" },
    });
    const id = (result.structuredContent as { task?: { id?: unknown } } | undefined)?.task?.id;
    if (!result.isError && typeof id === "string") return { ok: true, id };
    const content = result.content as { type: string; text?: string }[];
    return { ok: false, error: content.map((block) => block.text ?? "").join(" ") };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Seeds a running stack, through the backend's REST API when known, else through MCP. */
async function seedRemote(target: Target, count: number): Promise<void> {
  let next = 0;
  const one = target.backend
    ? async (i: number) => {
        const response = await backendFetch(target, "/tasks", {
          method: "POST",
          body: JSON.stringify({ title: `seed task ${i}`, priority: "low" }),
        });
        if (response.status !== 201) throw new Error(`seeding: POST /tasks → ${response.status}`);
      }
    : undefined;
  const clients = one
    ? []
    : await Promise.all(Array.from({ length: SEED_CONCURRENCY }, () => connect(target)));
  try {
    await Promise.all(
      Array.from({ length: SEED_CONCURRENCY }, async (_, worker) => {
        for (let i = next++; i < count; i = next++) {
          if (one) await one(i);
          else {
            const outcome = await createTask(clients[worker] as Client, `seed task ${i}`);
            if (!outcome.ok) throw new Error(`seeding: create_task failed: ${outcome.error}`);
          }
        }
      }),
    );
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}

function backendFetch(target: Target, path: string, init: RequestInit = {}): Promise<Response> {
  const backend = target.backend as { url: string; token: string };
  return fetch(`${backend.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${backend.token}`, "content-type": "application/json" },
  });
}

/**
 * Every stored task. Follows `next_cursor` when the backend pages, and takes the
 * first answer as complete when it does not (the JSON store returned everything at once).
 */
async function storedTasks(target: Target): Promise<Pick<Task, "id" | "title">[]> {
  const tasks: Pick<Task, "id" | "title">[] = [];
  let cursor: string | null | undefined;
  let first = true;
  const client = target.backend ? undefined : await connect(target);
  try {
    while (first || cursor) {
      let page: { tasks: Task[]; next_cursor?: string | null };
      if (client) {
        const result = await client.callTool({
          name: "list_tasks",
          arguments: { limit: 200, ...(cursor ? { cursor } : {}) },
        });
        if (result.isError) throw new Error(`list_tasks failed: ${JSON.stringify(result.content)}`);
        page = result.structuredContent as typeof page;
      } else {
        const query = first ? "" : `?limit=200&cursor=${encodeURIComponent(cursor ?? "")}`;
        const response = await backendFetch(target, `/tasks${query}`);
        if (!response.ok) throw new Error(`counting: GET /tasks → ${response.status}`);
        page = (await response.json()) as typeof page;
      }
      for (const { id, title } of page.tasks) tasks.push({ id, title });
      cursor = page.next_cursor;
      first = false;
    }
  } finally {
    await client?.close();
  }
  return tasks;
}

function maxOf(...values: (number | undefined)[]): number | undefined {
  const known = values.filter((value) => value !== undefined);
  return known.length === 0 ? undefined : Math.max(...known);
}

function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

interface RssPeak {
  mcp?: number;
  backend?: number;
}

function sampleRss(target: Target, peak: RssPeak): () => void {
  const processes = target.processes;
  if (!processes) return () => undefined;
  const sample = async () => {
    const [mcp, backend] = await Promise.all([
      rssMiB(processes.mcp.pid),
      rssMiB(processes.backend().pid),
    ]);
    if (mcp !== undefined) peak.mcp = Math.max(peak.mcp ?? 0, mcp);
    if (backend !== undefined) peak.backend = Math.max(peak.backend ?? 0, backend);
  };
  const timer = setInterval(() => void sample(), RSS_SAMPLE_MS);
  return () => clearInterval(timer);
}

interface CpuUse {
  mcp?: number;
  backend?: number;
  clients: number;
}

/** CPU time used so far by the MCP server, the backend (host processes only) and this process. */
async function cpuUse(target: Target): Promise<CpuUse> {
  const { user, system } = process.cpuUsage();
  const processes = target.processes;
  return {
    ...(processes ? { mcp: await cpuMs(processes.mcp.pid) } : {}),
    ...(processes ? { backend: await cpuMs(processes.backend().pid) } : {}),
    clients: (user + system) / 1000,
  };
}

/**
 * CPU milliseconds each side spent per acknowledged create. On a shared machine this says
 * more than creates/s, which also depends on whatever else runs. A restarted backend is a new
 * process, so its share is left out of a run that killed it.
 */
function cpuPerCreate(
  before: CpuUse,
  after: CpuUse,
  creates: number,
  backendRestarted: boolean,
): Record<string, number | null> {
  const per = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || creates === 0
      ? null
      : Number(((b - a) / creates).toFixed(3));
  return {
    mcp_cpu_ms_per_create: per(before.mcp, after.mcp),
    backend_cpu_ms_per_create: backendRestarted ? null : per(before.backend, after.backend),
    clients_cpu_ms_per_create: per(before.clients, after.clients),
  };
}

async function main(argv: readonly string[]): Promise<number> {
  const options = parseOptions(argv);
  const runId = randomBytes(4).toString("hex");
  const prefix = `load-${runId} `;

  let target: Target;
  let seedMs: number;
  if (options.url) {
    const mcpToken = process.env.MCP_AUTH_TOKEN;
    const serviceToken = process.env.SERVICE_AUTH_TOKEN;
    if (options.backendUrl && !serviceToken) {
      throw new Error("--backend-url needs SERVICE_AUTH_TOKEN in the environment.");
    }
    target = {
      revision: options.revision,
      clientHttp: options.clientHttp,
      mcpUrl: options.url,
      mcpHeaders: mcpToken ? { authorization: `Bearer ${mcpToken}` } : {},
      ...(options.backendUrl && serviceToken
        ? { backend: { url: options.backendUrl, token: serviceToken } }
        : {}),
      describe: `the stack at ${options.url}`,
      close: async () => undefined,
    };
    const started = performance.now();
    if (options.seed > 0) await seedRemote(target, options.seed);
    seedMs = performance.now() - started;
  } else {
    ({ target, seedMs } = await startHostStack(options));
  }

  try {
    const clients = await Promise.all(
      Array.from({ length: options.clients }, () => connect(target)),
    );
    const latencies: number[] = [];
    const acknowledged = new Set<string>();
    const failures = new Map<string, number>();
    const peak: RssPeak = {};
    const stopSampling = sampleRss(target, peak);
    const cpuBefore = await cpuUse(target);
    const durationMs = options.duration * 1000;
    const started = performance.now();
    const deadline = started + durationMs;

    let killed: Promise<number> | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    if (options.killBackend && target.restartBackend) {
      const restart = target.restartBackend;
      killed = new Promise((resolve, reject) => {
        killTimer = setTimeout(() => restart().then(resolve, reject), durationMs / 2);
      });
    }

    await Promise.all(
      clients.map(async (client, c) => {
        for (let i = 0; performance.now() < deadline; i += 1) {
          const t0 = performance.now();
          const outcome = await createTask(client, `${prefix}c${c} #${i}`);
          if (outcome.ok) {
            latencies.push(performance.now() - t0);
            acknowledged.add(outcome.id);
          } else {
            const key = outcome.error.slice(0, 160);
            failures.set(key, (failures.get(key) ?? 0) + 1);
          }
        }
      }),
    );
    const elapsedMs = performance.now() - started;
    clearTimeout(killTimer);
    const restartMs = killed ? await killed : undefined;
    stopSampling();
    const cpuAfter = await cpuUse(target);
    const endRss = target.processes
      ? {
          mcp: await rssMiB(target.processes.mcp.pid),
          backend: await rssMiB(target.processes.backend().pid),
        }
      : {};
    await Promise.all(clients.map((client) => client.close()));

    const all = await storedTasks(target);
    const ours = new Set(
      all.filter((task) => task.title.startsWith(prefix)).map((task) => task.id),
    );
    const stored = ours.size;
    const lost = [...acknowledged].filter((id) => !ours.has(id)).length;
    latencies.sort((a, b) => a - b);
    const failed = [...failures.values()].reduce((a, b) => a + b, 0);
    const round = (value: number | undefined, digits = 1) =>
      value === undefined ? null : Number(value.toFixed(digits));
    const summary = {
      target: target.describe,
      revision: options.revision,
      client_http: options.clientHttp,
      clients: options.clients,
      duration_s: options.duration,
      seeded: options.seed,
      seed_s: round(seedMs / 1000, 2),
      stored_before: all.length - stored,
      creates_acknowledged: acknowledged.size,
      creates_failed: failed,
      creates_per_s: round((acknowledged.size / elapsedMs) * 1000),
      p50_ms: round(percentile(latencies, 50)),
      p99_ms: round(percentile(latencies, 99)),
      max_ms: round(latencies.at(-1)),
      ...cpuPerCreate(cpuBefore, cpuAfter, acknowledged.size, restartMs !== undefined),
      mcp_rss_mib: round(endRss.mcp),
      mcp_rss_peak_mib: round(maxOf(peak.mcp, endRss.mcp)),
      backend_rss_mib: round(endRss.backend),
      backend_rss_peak_mib: round(maxOf(peak.backend, endRss.backend)),
      backend_killed: restartMs !== undefined,
      backend_restart_ms: round(restartMs, 0),
      stored,
      stored_unacknowledged: stored - (acknowledged.size - lost),
      lost,
      failure_samples: [...failures.entries()]
        .slice(0, 3)
        .map(([message, n]) => `${n}× ${message}`),
    };
    if (options.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else process.stdout.write(render(summary));
    return lost === 0 ? 0 : EXIT_LOST_WRITES;
  } finally {
    await target.close();
  }
}

function render(s: Record<string, unknown>): string {
  const lines = [
    `target       ${s.target}`,
    `revision     MCP ${s.revision}, clients' HTTP: ${s.client_http}`,
    `load         ${s.clients} clients × ${s.duration_s} s on ${s.stored_before} stored tasks (seeded ${s.seeded} in ${s.seed_s} s)`,
    `creates      ${s.creates_per_s}/s (${s.creates_acknowledged} acknowledged, ${s.creates_failed} failed)`,
    `latency      p50 ${s.p50_ms} ms, p99 ${s.p99_ms} ms, max ${s.max_ms} ms`,
    `CPU/create   mcp ${s.mcp_cpu_ms_per_create ?? "n/a"} ms, backend ${s.backend_cpu_ms_per_create ?? "n/a"} ms, clients ${s.clients_cpu_ms_per_create} ms`,
    `RSS MiB      mcp ${s.mcp_rss_mib ?? "n/a"} (peak ${s.mcp_rss_peak_mib ?? "n/a"}), backend ${s.backend_rss_mib ?? "n/a"} (peak ${s.backend_rss_peak_mib ?? "n/a"})`,
  ];
  if (s.backend_killed)
    lines.push(`kill         backend SIGKILLed and back in ${s.backend_restart_ms} ms`);
  lines.push(
    `durability   acknowledged ${s.creates_acknowledged}, stored ${s.stored}, lost ${s.lost}` +
      (Number(s.stored_unacknowledged) > 0
        ? ` (${s.stored_unacknowledged} stored whose answer never reached the client)`
        : ""),
  );
  for (const sample of s.failure_samples as string[]) lines.push(`failure      ${sample}`);
  if (Number(s.lost) > 0)
    lines.push("FAIL         acknowledged creates are missing from the store");
  return `${lines.join("\n")}\n`;
}

main(process.argv).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`bench:load: ${message}\n`);
    process.exit(EXIT_USAGE);
  },
);
