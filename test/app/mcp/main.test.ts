import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectHttp, connectStdio, REVISIONS } from "../support/clients.js";
import { CHILD_MARK_VAR, killMarked } from "../support/leaks.js";
import {
  listeningPort,
  REPO_ROOT,
  type Spawned,
  spawnTsx,
  TSX,
  testProcessMark,
} from "../support/processes.js";
import { makeTempDir, type RunningBackend, startBackend, TOKEN } from "../support/servers.js";

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

  it("serves HTTP to clients of both revisions, logs each tool once as JSON without the tokens, and exits 0 on SIGTERM", async () => {
    const proc = start({
      SERVICE_AUTH_TOKEN: TOKEN,
      MCP_AUTH_TOKEN: "client-facing-token-xyz",
      BACKEND_BASE_URL: backend.url,
      MCP_HOST: "127.0.0.1",
      PORT: "0",
    });
    const port = await listeningPort(proc);
    for (const revision of REVISIONS) {
      const client = await connectHttp(`http://127.0.0.1:${port}`, revision, {
        authorization: "Bearer client-facing-token-xyz",
      });
      const result = await client.callTool("create_task", { title: `over http, ${revision}` });
      expect(result.isError, revision).toBeFalsy();
      await client.close();
    }

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

  it.each(REVISIONS)(
    "round-trips every tool over stdio with a %s client, nothing but protocol on stdout",
    async (revision) => {
      let stderr = "";
      const mark = testProcessMark();
      const client = await connectStdio(
        revision,
        {
          command: TSX,
          args: [MAIN, "--stdio"],
          cwd: REPO_ROOT,
          env: {
            PATH: process.env.PATH ?? "",
            SERVICE_AUTH_TOKEN: TOKEN,
            BACKEND_BASE_URL: backend.url,
            ...mark,
          },
        },
        (chunk) => {
          stderr += chunk;
        },
      );
      try {
        if (revision === "2026-07-28") expect(client.negotiated()).toBe(revision);
        const { tools } = await client.listTools();
        expect(tools.map((tool) => tool.name)).toEqual(TOOL_NAMES);

        const created = await client.callTool("create_task", { title: `via stdio, ${revision}` });
        const id = (created.structuredContent as { task: { id: string } }).task.id;
        const calls: [string, Record<string, unknown>][] = [
          ["get_task", { id }],
          ["update_task", { id, priority: "low" }],
          ["mark_task_completed", { id }],
          ["list_tasks", { status: "completed" }],
          ["delete_task", { id }],
        ];
        for (const [name, args] of calls) {
          const result = await client.callTool(name, args);
          expect(result.isError, name).toBeFalsy();
        }
        const missing = await client.callTool("get_task", { id });
        expect(missing.isError).toBe(true);
        expect(client.protocolErrors).toEqual([]);
      } finally {
        await client.close();
        // The SDK ends the tsx process it started; make sure its Node child went with it.
        await killMarked(mark[CHILD_MARK_VAR] as string);
      }
      expect(stderr).toContain("Registered tool: delete_task");
      expect(stderr).not.toContain(TOKEN);
    },
  );
});
