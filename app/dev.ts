// `npm run dev`: runs the todo backend and the MCP server together for local work.
// Reads .env if present, invents a dev token when SERVICE_AUTH_TOKEN is unset, and stops
// both servers on Ctrl-C (or when either one exits).
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SERVER_NODE_FLAGS } from "./shared/runtime.js";

const DEFAULT_BACKEND_URL = "http://127.0.0.1:8000";

if (existsSync(".env")) process.loadEnvFile(".env");

const env: NodeJS.ProcessEnv = { ...process.env };
if (!env.SERVICE_AUTH_TOKEN) {
  env.SERVICE_AUTH_TOKEN = `dev-${randomBytes(12).toString("hex")}`;
  process.stderr.write(
    `dev: SERVICE_AUTH_TOKEN not set; using ${env.SERVICE_AUTH_TOKEN} for this run\n`,
  );
}
const backendUrl = env.BACKEND_BASE_URL || env.FASTAPI_BASE_URL || DEFAULT_BACKEND_URL;
const backendPort = new URL(backendUrl).port || "8000";
// PORT would override both servers' ports; each gets its own here instead.
delete env.PORT;

const children = new Map<string, ChildProcess>();
let stopping = false;

function start(name: string, entry: string, extraEnv: NodeJS.ProcessEnv): void {
  const script = fileURLToPath(new URL(entry, import.meta.url));
  // process.execArgv carries tsx's loader flags, so the children run TypeScript too.
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...process.execArgv, script], {
    env: { ...env, ...extraEnv },
    stdio: ["ignore", "inherit", "inherit"],
    // Own process group: Ctrl-C reaches only this script, which then stops each child once.
    detached: true,
  });
  children.set(name, child);
  child.on("exit", (code, signal) => {
    children.delete(name);
    if (!stopping) {
      process.stderr.write(`dev: ${name} exited (${signal ?? code}); stopping the other\n`);
      stop(code ?? 1);
    } else if (children.size === 0) {
      process.exit(exitCode);
    }
  });
}

let exitCode = 0;
function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  exitCode = code;
  if (children.size === 0) process.exit(exitCode);
  for (const child of children.values()) child.kill("SIGTERM");
}

process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

process.on("exit", () => {
  for (const child of children.values()) child.kill("SIGKILL");
});

// Loopback unless told otherwise: a dev stack with a throwaway token is not for the network.
start("backend", "./backend/main.ts", { PORT: backendPort, HOST: env.HOST || "127.0.0.1" });
start("mcp", "./mcp/main.ts", {
  BACKEND_BASE_URL: backendUrl,
  MCP_HOST: env.MCP_HOST || "127.0.0.1",
});
