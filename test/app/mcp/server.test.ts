import type { CallToolResult } from "@modelcontextprotocol/client";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BackendClient } from "../../../app/mcp/backend-client.js";
import { LIST_CACHE_HINT } from "../../../app/mcp/server.js";
import { JSON_SCHEMA_DIALECT } from "../../../app/mcp/tools/json-schema.js";
import { TOOL_NAME } from "../../../app/mcp/tools/tool.js";
import { silentLogger } from "../../../app/shared/logger.js";
import { Task } from "../../../app/shared/task.js";
import {
  connectHttp,
  connectInMemory,
  REVISIONS,
  type TestClient,
  toolNamed,
} from "../support/clients.js";
import {
  type FakeBackend,
  freePort,
  makeTempDir,
  type RunningBackend,
  type RunningMcp,
  startBackend,
  startFakeBackend,
  startMcp,
} from "../support/servers.js";

const UNKNOWN_ID = "3f6c1d2e-8a4b-4c1d-9e2f-0a1b2c3d4e5f";

function callTool(client: TestClient, name: string, args: Record<string, unknown>) {
  return client.callTool(name, args);
}

function text(result: CallToolResult): string {
  return result.content.map((block) => (block.type === "text" ? block.text : "")).join("\n");
}

describe.each(REVISIONS)("createServer, served in memory to a %s client", (revision) => {
  // Listing tools and failing calls never reach the backend, so nothing listens there.
  const backend = new BackendClient({
    baseUrl: "http://127.0.0.1:9",
    token: "unused",
    timeoutMs: 1000,
    maxRetries: 0,
    logger: silentLogger,
  });
  let client: TestClient;

  beforeAll(async () => {
    client = await connectInMemory({ backend, logger: silentLogger }, revision);
  });
  afterAll(async () => {
    await client.close();
    backend.close();
  });

  it("gives the model its instructions at connect", () => {
    expect(client.instructions()).toMatch(/^Manages the user's todo list\./);
  });

  it("names every tool as MCP allows, so each name is safe in the Mcp-Name header", async () => {
    const { tools } = await client.listTools();
    expect(tools).toHaveLength(6);
    for (const tool of tools) expect(tool.name).toMatch(TOOL_NAME);
  });

  it("publishes every input and output schema as JSON Schema 2020-12 and says so in $schema", async () => {
    const { tools } = await client.listTools();
    for (const tool of tools) {
      expect(tool.inputSchema.$schema, tool.name).toBe(JSON_SCHEMA_DIALECT);
      expect(tool.outputSchema?.$schema, tool.name).toBe(JSON_SCHEMA_DIALECT);
      expect(tool.inputSchema.type, tool.name).toBe("object");
    }
    // Nullable fields are written the 2020-12 way, with anyOf and type null.
    const output = toolNamed(tools, "get_task").outputSchema as {
      properties: { task: { properties: Record<string, unknown> } };
    };
    expect(output.properties.task.properties.due_date).toMatchObject({
      anyOf: [{}, { type: "null" }],
    });
  });

  it("carries the cache hint on tools/list only where the revision defines one", async () => {
    const listed = (await client.listTools()) as Record<string, unknown>;
    if (revision === "2026-07-28") expect(listed).toMatchObject(LIST_CACHE_HINT);
    else expect(listed).not.toHaveProperty("ttlMs");
  });

  it("answers a call to a tool it does not have with a protocol error, not a tool result", async () => {
    await expect(client.callTool("drop_database", {})).rejects.toMatchObject({
      code: -32602,
      message: expect.stringContaining("Tool drop_database not found"),
    });
  });

  it("answers arguments that fail the tool's schema with an isError result naming the field", async () => {
    const result = await client.callTool("create_task", { title: "" });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain("title");
  });

  it("lists the todo tools in the order clients show them", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual([
      "list_tasks",
      "create_task",
      "get_task",
      "update_task",
      "mark_task_completed",
      "delete_task",
    ]);
  });
});

describe.each(REVISIONS)(
  "MCP %s over Streamable HTTP, in front of the real backend",
  (revision) => {
    let dir: { path: string; remove: () => Promise<void> };
    let backend: RunningBackend;
    let mcp: RunningMcp;
    let client: TestClient;

    beforeAll(async () => {
      dir = await makeTempDir("todo-mcp-");
      backend = await startBackend(dir.path);
      mcp = await startMcp(backend.url);
      client = await connectHttp(mcp.url, revision);
    });
    afterAll(async () => {
      await client.close();
      await mcp.close();
      await backend.close();
      await dir.remove();
    });

    it("speaks the revision it was asked for", () => {
      // The v1 client reports the version its initialize negotiated; both must agree.
      expect(client.negotiated()).toBe(revision);
    });

    it("lists the six tools with output schemas and behaviour hints", async () => {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual([
        "list_tasks",
        "create_task",
        "get_task",
        "update_task",
        "mark_task_completed",
        "delete_task",
      ]);
      for (const tool of tools) {
        expect(tool.description?.length).toBeGreaterThan(60);
        expect(tool.outputSchema?.type).toBe("object");
        expect(tool.annotations).toHaveProperty("readOnlyHint");
        expect(tool.annotations).toHaveProperty("destructiveHint");
        expect(tool.annotations).toHaveProperty("idempotentHint");
      }
      const byName = new Map(tools.map((tool) => [tool.name, tool]));
      expect(byName.get("list_tasks")?.annotations?.readOnlyHint).toBe(true);
      expect(byName.get("delete_task")?.annotations?.destructiveHint).toBe(true);
      expect(byName.get("create_task")?.annotations?.idempotentHint).toBe(false);
      expect(byName.get("create_task")?.inputSchema.required).toEqual(["title"]);
    });

    it("round-trips every tool with structured content that matches the Task schema", async () => {
      const created = await callTool(client, "create_task", {
        title: "Renew passport",
        description: "Photos first",
        priority: "high",
        due_date: "2025-09-01",
      });
      expect(created.isError).toBeFalsy();
      const task = Task.parse((created.structuredContent as { task: unknown }).task);
      expect(task).toMatchObject({ title: "Renew passport", priority: "high", status: "pending" });
      expect(text(created)).toContain(task.id);

      const got = await callTool(client, "get_task", { id: task.id });
      expect(got.structuredContent).toEqual({ task });

      const updated = await callTool(client, "update_task", {
        id: task.id,
        title: "Renew passport and ID",
        due_date: null,
      });
      expect(updated.structuredContent).toMatchObject({
        task: { title: "Renew passport and ID", due_date: null, description: "Photos first" },
      });

      const completed = await callTool(client, "mark_task_completed", { id: task.id });
      expect(completed.structuredContent).toMatchObject({ task: { status: "completed" } });

      const again = await callTool(client, "mark_task_completed", { id: task.id });
      expect(again.structuredContent).toEqual(completed.structuredContent);

      const listed = await callTool(client, "list_tasks", { status: "completed" });
      expect(listed.structuredContent).toMatchObject({ status: "completed", count: 1 });
      const pending = await callTool(client, "list_tasks", {});
      expect(pending.structuredContent).toMatchObject({ status: "all", count: 1 });

      const deleted = await callTool(client, "delete_task", { id: task.id });
      expect(deleted.structuredContent).toEqual({ id: task.id, deleted: true });
      expect((await callTool(client, "list_tasks", {})).structuredContent).toMatchObject({
        count: 0,
      });
    });

    it("answers invalid arguments with an isError result naming the field", async () => {
      const cases: [string, Record<string, unknown>, RegExp][] = [
        ["create_task", {}, /title/],
        ["create_task", { title: "x", priority: "urgent" }, /priority/],
        ["create_task", { title: "x", due_date: "tomorrow" }, /due_date/],
        ["get_task", { id: "42" }, /id/],
        ["update_task", { id: UNKNOWN_ID }, /at least one of title/],
        ["list_tasks", { status: "done" }, /status/],
        ["list_tasks", { limit: 0 }, /limit: must be a whole number from 1 to 200/],
        ["list_tasks", { limit: 201 }, /limit: must be a whole number from 1 to 200/],
        ["list_tasks", { limit: 2.5 }, /limit/],
        ["list_tasks", { cursor: "" }, /cursor/],
        ["list_tasks", { cursor: "forged" }, /cursor: is not a next_cursor this server returned/],
      ];
      for (const [name, args, pattern] of cases) {
        const result = await callTool(client, name, args);
        expect(result.isError, name).toBe(true);
        expect(text(result)).toMatch(pattern);
      }
    });

    it("pages list_tasks with limit and next_cursor, and its summary tells the model how to go on", async () => {
      const titles = Array.from({ length: 5 }, (_, i) => `paged ${i}`);
      for (const title of titles) await callTool(client, "create_task", { title, priority: "low" });
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const result = await callTool(client, "list_tasks", {
          status: "pending",
          limit: 2,
          ...(cursor ? { cursor } : {}),
        });
        expect(result.isError).toBeFalsy();
        const page = result.structuredContent as {
          count: number;
          tasks: Task[];
          next_cursor: string | null;
        };
        expect(page.count).toBe(page.tasks.length);
        seen.push(...page.tasks.map((task) => task.title));
        const summary = (result.content[0] as { text: string }).text;
        if (page.next_cursor !== null) {
          expect(summary).toContain(`cursor "${page.next_cursor}" for the next page`);
        } else {
          expect(summary).not.toContain("cursor");
        }
        cursor = page.next_cursor;
        pages += 1;
      } while (cursor !== null);
      expect(seen.filter((title) => title.startsWith("paged "))).toEqual(titles);
      expect(pages).toBe(Math.ceil(seen.length / 2));
    });

    it("tells the model in list_tasks' description how to page", async () => {
      const { tools } = await client.listTools();
      const listTool = tools.find((tool) => tool.name === "list_tasks");
      expect(listTool?.description).toMatch(/next_cursor is not null/);
      expect(listTool?.description).toMatch(/default 50, max 200/);
      expect(listTool?.inputSchema.properties).toHaveProperty("cursor");
      expect(listTool?.inputSchema.properties?.limit).toMatchObject({ maximum: 200, minimum: 1 });
      expect(listTool?.outputSchema?.properties).toHaveProperty("next_cursor");
    });

    it("answers an unknown id with an isError result that says what to do", async () => {
      for (const name of ["get_task", "mark_task_completed", "delete_task"]) {
        const result = await callTool(client, name, { id: UNKNOWN_ID });
        expect(result.isError).toBe(true);
        expect(text(result)).toBe(
          `${name} failed: No task with id ${UNKNOWN_ID}. Call list_tasks to see the ids that exist.`,
        );
      }
    });
  },
);

describe.each(REVISIONS)("MCP %s when the backend misbehaves", (revision) => {
  let mcp: RunningMcp | undefined;
  let client: TestClient | undefined;
  let fake: FakeBackend | undefined;
  let dir: { path: string; remove: () => Promise<void> } | undefined;
  let backend: RunningBackend | undefined;

  beforeEach(() => {
    mcp = undefined;
    client = undefined;
    fake = undefined;
    backend = undefined;
    dir = undefined;
  });
  afterEach(async () => {
    await client?.close();
    await mcp?.close();
    await fake?.close();
    await backend?.close();
    await dir?.remove();
  });

  async function expectStillHealthy(url: string): Promise<void> {
    expect((await fetch(`${url}/health`)).status).toBe(200);
  }

  it("reports a backend that is down and keeps running", async () => {
    const port = await freePort();
    mcp = await startMcp(`http://127.0.0.1:${port}`);
    client = await connectHttp(mcp.url, revision);
    const result = await callTool(client, "list_tasks", {});
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(
      /Could not reach the todo backend .*ECONNREFUSED.*BACKEND_BASE_URL/,
    );
    await expectStillHealthy(mcp.url);
    expect((await fetch(`${mcp.url}/ready`)).status).toBe(503);
  });

  it("reports a backend slower than the timeout and keeps running", async () => {
    fake = await startFakeBackend({ delayMs: 3000 });
    mcp = await startMcp(fake.url, { timeoutMs: 300 });
    client = await connectHttp(mcp.url, revision);
    const result = await callTool(client, "create_task", { title: "slow" });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/did not answer POST .*\/tasks within 0\.3 s/);
    expect(fake.requests).toEqual(["POST /tasks"]);
    await expectStillHealthy(mcp.url);
  });

  it("reports a token the backend rejects without echoing any token", async () => {
    dir = await makeTempDir("todo-mcp-token-");
    backend = await startBackend(dir.path, { token: "the-backend-token" });
    mcp = await startMcp(backend.url, { token: "the-wrong-token" });
    client = await connectHttp(mcp.url, revision);
    const result = await callTool(client, "list_tasks", {});
    expect(result.isError).toBe(true);
    expect(text(result)).toContain("refused the MCP server's credentials (HTTP 401)");
    expect(text(result)).toContain("SERVICE_AUTH_TOKEN");
    expect(JSON.stringify(result)).not.toMatch(/the-(backend|wrong)-token/);
    await expectStillHealthy(mcp.url);
  });

  it("reports a backend 500 as a failure to retry later", async () => {
    fake = await startFakeBackend({
      status: 500,
      body: { error: { code: "INTERNAL", message: "boom" } },
    });
    mcp = await startMcp(fake.url, { maxRetries: 2 });
    client = await connectHttp(mcp.url, revision);
    const result = await callTool(client, "get_task", { id: UNKNOWN_ID });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/HTTP 500: boom\). Try again shortly/);
    expect(fake.requests).toHaveLength(1);
  });
});
