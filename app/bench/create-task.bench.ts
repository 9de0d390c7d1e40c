// `npm run bench:app`: latency of a create_task round trip over loopback.
// Starts the real backend and MCP server as separate processes (temp DATA_DIR, free ports),
// reads the MCP server's idle RSS after 5 s, then times sequential create_task calls from an
// SDK client over Streamable HTTP, speaking MCP 2026-07-28. Bounded: --calls (default 500)
// plus --warmup calls.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { Command } from "commander";
import { SERVER_NODE_FLAGS } from "../shared/runtime.js";

const options = new Command("create-task-bench")
  .option("--calls <n>", "timed create_task calls", (v) => Number.parseInt(v, 10), 500)
  .option("--warmup <n>", "untimed calls first", (v) => Number.parseInt(v, 10), 20)
  .option("--idle-ms <n>", "wait before reading idle RSS", (v) => Number.parseInt(v, 10), 5000)
  .parse()
  .opts<{ calls: number; warmup: number; idleMs: number }>();

const TOKEN = "bench-token-not-secret";

interface Server {
  child: ChildProcess;
  port: number;
}

/** Starts an app entry point under the same tsx loader as this script; resolves its port. */
function startServer(entry: string, env: NodeJS.ProcessEnv): Promise<Server> {
  const script = fileURLToPath(new URL(entry, import.meta.url));
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...process.execArgv, script], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${entry} did not start in 20 s`)), 20_000);
    timer.unref();
    let buffered = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      for (const line of buffered.split("\n")) {
        try {
          const entry = JSON.parse(line) as { port?: number };
          if (typeof entry.port === "number") resolve({ child, port: entry.port });
        } catch {
          // partial or non-JSON line
        }
      }
    });
    child.on("exit", (code) => reject(new Error(`${entry} exited with ${code}: ${buffered}`)));
  });
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match?.[1]) throw new Error("VmRSS not found");
  return Number(match[1]);
}

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "todo-bench-"));
  const servers: ChildProcess[] = [];
  try {
    const backend = await startServer("../backend/main.ts", {
      SERVICE_AUTH_TOKEN: TOKEN,
      DATA_DIR: dataDir,
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "info",
    });
    servers.push(backend.child);
    const mcp = await startServer("../mcp/main.ts", {
      SERVICE_AUTH_TOKEN: TOKEN,
      BACKEND_BASE_URL: `http://127.0.0.1:${backend.port}`,
      MCP_HOST: "127.0.0.1",
      PORT: "0",
      MCP_LOG_LEVEL: "info",
    });
    servers.push(mcp.child);

    await new Promise((resolve) => setTimeout(resolve, options.idleMs));
    const idleRss = await rssKiB(mcp.child.pid as number);

    const client = new Client(
      { name: "bench", version: "1.0.0" },
      { versionNegotiation: { mode: { pin: "2026-07-28" } } },
    );
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${mcp.port}/mcp`)),
    );
    const createOnce = async (i: number): Promise<void> => {
      const result = await client.callTool({
        name: "create_task",
        arguments: { title: `bench task ${i}`, priority: "low" },
      });
      if (result.isError) throw new Error(`create_task failed: ${JSON.stringify(result.content)}`);
    };
    for (let i = 0; i < options.warmup; i += 1) await createOnce(i);

    const samples: number[] = [];
    const started = performance.now();
    for (let i = 0; i < options.calls; i += 1) {
      const t0 = performance.now();
      await createOnce(i);
      samples.push(performance.now() - t0);
    }
    const elapsed = performance.now() - started;
    const busyRss = await rssKiB(mcp.child.pid as number);
    await client.close();

    samples.sort((a, b) => a - b);
    const round = (ms: number) => Math.round(ms * 100) / 100;
    const summary = {
      calls: options.calls,
      p50_ms: round(percentile(samples, 50)),
      p90_ms: round(percentile(samples, 90)),
      p99_ms: round(percentile(samples, 99)),
      max_ms: round(samples.at(-1) ?? Number.NaN),
      mean_ms: round(samples.reduce((a, b) => a + b, 0) / samples.length),
      calls_per_s: Math.round((options.calls / elapsed) * 1000),
      mcp_idle_rss_mib: Math.round((idleRss / 1024) * 10) / 10,
      mcp_rss_after_mib: Math.round((busyRss / 1024) * 10) / 10,
      node: process.version,
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    for (const child of servers) child.kill("SIGTERM");
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
