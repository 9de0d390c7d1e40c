import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBackendServer } from "../../../app/backend/app.js";
import { TaskStore } from "../../../app/backend/store.js";
import { BackendClient } from "../../../app/mcp/backend-client.js";
import { createMcpHttpServer } from "../../../app/mcp/http.js";
import { createServer as createMcpServer } from "../../../app/mcp/server.js";
import { closeGracefully, type DrainLimits, listen } from "../../../app/shared/http.js";
import { type Logger, silentLogger } from "../../../app/shared/logger.js";

export const TOKEN = "test-service-token-0123456789";

/** Makes a temp directory; call the returned `remove` in cleanup. */
export async function makeTempDir(prefix = "todo-test-"): Promise<{
  path: string;
  remove: () => Promise<void>;
}> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export interface RunningBackend {
  url: string;
  port: number;
  store: TaskStore;
  close: () => Promise<void>;
}

/** Runs the real backend on a loopback ephemeral port (or `port`, to restart in place). */
export async function startBackend(
  dataDir: string,
  options: { token?: string; port?: number; logger?: Logger; drainLimits?: DrainLimits } = {},
): Promise<RunningBackend> {
  const store = await TaskStore.open(dataDir);
  const server = createBackendServer({
    store,
    serviceAuthToken: options.token ?? TOKEN,
    logger: options.logger ?? silentLogger,
    drainLimits: options.drainLimits,
  });
  const port = await listen(server, options.port ?? 0, "127.0.0.1");
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    store,
    close: async () => {
      await closeGracefully(server, 2000);
      await store.close();
    },
  };
}

export interface RunningMcp {
  url: string;
  port: number;
  close: () => Promise<void>;
}

/** Runs the MCP HTTP server in front of `backendUrl` on a loopback ephemeral port. */
export async function startMcp(
  backendUrl: string,
  options: {
    token?: string;
    timeoutMs?: number;
    maxRetries?: number;
    authToken?: string;
    allowedHosts?: string[];
    maxBodyBytes?: number;
    drainLimits?: DrainLimits;
    logger?: Logger;
  } = {},
): Promise<RunningMcp> {
  const logger = options.logger ?? silentLogger;
  const backend = new BackendClient({
    baseUrl: backendUrl,
    token: options.token ?? TOKEN,
    timeoutMs: options.timeoutMs ?? 5000,
    maxRetries: options.maxRetries ?? 0,
    retryDelayMs: 10,
    logger,
  });
  const server = createMcpHttpServer({
    makeServer: () => createMcpServer({ backend, logger }),
    checkBackend: () => backend.health(),
    allowedHosts: options.allowedHosts ?? ["localhost", "127.0.0.1", "mcp-server"],
    authToken: options.authToken,
    maxBodyBytes: options.maxBodyBytes,
    drainLimits: options.drainLimits,
    logger,
  });
  const port = await listen(server, 0, "127.0.0.1");
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      await closeGracefully(server, 2000);
      backend.close();
    },
  };
}

/** A port on loopback that nothing listens on (it was free a moment ago). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface FakeBackend {
  url: string;
  /** Requests received so far, as `METHOD /path`. */
  requests: string[];
  close: () => Promise<void>;
}

/**
 * A stand-in backend at the far edge of the MCP server: answers every request with
 * `status` and `body` after `delayMs`, or with what `route` returns for the request.
 * For failure modes the real backend cannot produce.
 */
export async function startFakeBackend(options: {
  status?: number;
  body?: unknown;
  delayMs?: number;
  route?: (method: string, url: string) => { status: number; body: unknown };
}): Promise<FakeBackend> {
  const requests: string[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    const timer = setTimeout(() => {
      timers.delete(timer);
      const { status, body } = options.route?.(req.method ?? "GET", req.url ?? "/") ?? {
        status: options.status ?? 200,
        body: options.body ?? {},
      };
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    }, options.delayMs ?? 0);
    timers.add(timer);
  });
  const port = await listen(server, 0, "127.0.0.1");
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
