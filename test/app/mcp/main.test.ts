import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listeningPort, REPO_ROOT, type Spawned, spawnTsx, TSX } from "../support/processes.js";
import {
  connectClient,
  makeTempDir,
  type RunningBackend,
  startBackend,
  TOKEN,
} from "../support/servers.js";

const MAIN = "app/mcp/main.ts";
const TOOL_NAMES = [
  "list_tasks",
  "create_task",
  "get_task",
  "update_task",
  "mark_task_completed",
  "delete_task",
];

let dir: { path: string; remove: () => Promise<void> };
let backend: RunningBackend;
const spawned: Spawned[] = [];

beforeAll(async () => {
  dir = await makeTempDir("todo-mcp-main-");
  backend = await startBackend(dir.path);
});
afterAll(async () => {
  await Promise.all(spawned.map((proc) => proc.stop("SIGKILL")));
  await backend.close();
  await dir.remove();
});

function start(env: Record<string, string>, args: string[] = []): Spawned {
  const proc = spawnTsx(MAIN, args, env);
  spawned.push(proc);
  return proc;
}

describe("MCP server entry point", () => {
  it("exits 2 with one clear line when SERVICE_AUTH_TOKEN is missing", async () => {
    const proc = start({ BACKEND_BASE_URL: backend.url });
    expect(await proc.exited).toBe(2);
    expect(proc.stderrLines()).toEqual([
      "todo-mcp: invalid configuration: SERVICE_AUTH_TOKEN: is required: set it to the bearer token the todo backend expects",
    ]);
    expect(proc.stdout()).toBe("");
  });

  it("exits 2 with one clear line when the backend URL is malformed", async () => {
    const proc = start({ SERVICE_AUTH_TOKEN: TOKEN, FASTAPI_BASE_URL: "not a url" });
    expect(await proc.exited).toBe(2);
    expect(proc.stderrLines()).toEqual([
      "todo-mcp: invalid configuration: FASTAPI_BASE_URL: must be an http:// or https:// URL",
    ]);
  });

  it("serves HTTP, logs each tool once as JSON without the tokens, and exits 0 on SIGTERM", async () => {
    const proc = start({
      SERVICE_AUTH_TOKEN: TOKEN,
      MCP_AUTH_TOKEN: "client-facing-token-xyz",
      BACKEND_BASE_URL: backend.url,
      MCP_HOST: "127.0.0.1",
      PORT: "0",
    });
    const port = await listeningPort(proc);
    const client = await connectClient(`http://127.0.0.1:${port}`, {
      authorization: "Bearer client-facing-token-xyz",
    });
    const result = await client.callTool({
      name: "create_task",
      arguments: { title: "over http" },
    });
    expect(result.isError).toBeFalsy();
    await client.close();

    expect(await proc.stop("SIGTERM")).toBe(0);
    const lines = proc.stderrLines();
    const logs = lines.map((line) => JSON.parse(line) as { msg: string; level: string });
    expect(
      logs.filter((log) => log.msg.startsWith("Registered tool: ")).map((log) => log.msg),
    ).toEqual(TOOL_NAMES.map((name) => `Registered tool: ${name}`));
    expect(logs.at(-1)?.msg).toBe("stopped");
    expect(lines.join("\n")).not.toContain(TOKEN);
    expect(lines.join("\n")).not.toContain("client-facing-token-xyz");
  });

  it("round-trips every tool over stdio with nothing but protocol on stdout", async () => {
    const transport = new StdioClientTransport({
      command: TSX,
      args: [MAIN, "--stdio"],
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        SERVICE_AUTH_TOKEN: TOKEN,
        BACKEND_BASE_URL: backend.url,
      },
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const protocolErrors: Error[] = [];
    const client = new Client({ name: "stdio-test", version: "1.0.0" });
    client.onerror = (error) => protocolErrors.push(error);
    await client.connect(transport);

    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(TOOL_NAMES);

    const created = await client.callTool({
      name: "create_task",
      arguments: { title: "via stdio" },
    });
    const id = (created.structuredContent as { task: { id: string } }).task.id;
    const calls: [string, Record<string, unknown>][] = [
      ["get_task", { id }],
      ["update_task", { id, priority: "low" }],
      ["mark_task_completed", { id }],
      ["list_tasks", { status: "completed" }],
      ["delete_task", { id }],
    ];
    for (const [name, args] of calls) {
      const result = await client.callTool({ name, arguments: args });
      expect(result.isError, name).toBeFalsy();
    }
    const missing = await client.callTool({ name: "get_task", arguments: { id } });
    expect(missing.isError).toBe(true);

    await client.close();
    expect(protocolErrors).toEqual([]);
    expect(stderr).toContain("Registered tool: delete_task");
    expect(stderr).not.toContain(TOKEN);
  });
});
