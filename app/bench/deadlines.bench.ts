// `npm run bench:deadlines`: how long each of the app's deadlines really takes to trip, on
// loopback against servers that never answer. The tests prove each deadline trips at all;
// this checks they trip near their bound (exit 1 when one takes longer than bound + slack).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { BackendClient } from "../mcp/backend-client.js";
import { closeGracefully, listen, refuseBody } from "../shared/http.js";
import { silentLogger } from "../shared/logger.js";

// Scheduling on a busy 2-core machine; a deadline missed by more than this is a bug.
const SLACK_MS = 1000;

interface Measurement {
  deadline: string;
  boundMs: number;
  measuredMs: number;
}

/** A loopback server that accepts requests and never answers them. */
async function silentServer(): Promise<{ server: Server; port: number }> {
  const server = createServer(() => undefined);
  return { server, port: await listen(server, 0, "127.0.0.1") };
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

async function closeDeadline(): Promise<Measurement> {
  const { server, port } = await silentServer();
  fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
  await once(server, "request");
  const measuredMs = await timed(() => closeGracefully(server, 200));
  return { deadline: "closeGracefully, 200 ms", boundMs: 200, measuredMs };
}

async function backendTimeout(): Promise<Measurement> {
  const { server, port } = await silentServer();
  const client = new BackendClient({
    baseUrl: `http://127.0.0.1:${port}`,
    token: "bench",
    timeoutMs: 200,
    maxRetries: 1,
    retryDelayMs: 10,
    logger: silentLogger,
  });
  const measuredMs = await timed(() => client.listTasks({ status: "all" }).catch(() => undefined));
  await stop(server);
  // Two attempts of 200 ms, plus a randomized backoff of at most 2 × 10 ms.
  return { deadline: "backend call, 200 ms × 2 attempts", boundMs: 420, measuredMs };
}

async function healthProbe(): Promise<Measurement> {
  const { server, port } = await silentServer();
  const script = fileURLToPath(new URL("../healthcheck.ts", import.meta.url));
  // The probe is a script that exits as it finishes, so it runs as the image runs it.
  const probe = spawn(process.execPath, [...process.execArgv, script, String(port)]);
  const measuredMs = await timed(() => once(probe, "exit"));
  await stop(server);
  // Includes starting Node and the TypeScript loader.
  return { deadline: "healthcheck probe, 3 s", boundMs: 3000, measuredMs };
}

async function drainDeadline(): Promise<Measurement> {
  const server = createServer((req, res) =>
    refuseBody(req, res, 413, { error: "too large" }, { drain: { maxBytes: 1e9, timeoutMs: 500 } }),
  );
  const port = await listen(server, 0, "127.0.0.1");
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => undefined);
  socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${1e9}\r\n\r\n`);
  const trickle = setInterval(() => socket.write("x"), 20);
  await once(socket, "data");
  const measuredMs = await timed(() => once(socket, "close"));
  clearInterval(trickle);
  await stop(server);
  return { deadline: "refused-body drain, 500 ms", boundMs: 500, measuredMs };
}

async function main(): Promise<number> {
  const results: Measurement[] = [];
  for (const measure of [closeDeadline, backendTimeout, drainDeadline, healthProbe]) {
    results.push(await measure());
  }
  let late = 0;
  for (const { deadline, boundMs, measuredMs } of results) {
    const ok = measuredMs <= boundMs + SLACK_MS;
    if (!ok) late += 1;
    process.stdout.write(
      `${ok ? "ok  " : "LATE"}  ${deadline.padEnd(36)} ${measuredMs.toFixed(0).padStart(6)} ms\n`,
    );
  }
  return late === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench:deadlines: ${error instanceof Error ? error.message : error}\n`);
    process.exit(2);
  },
);
