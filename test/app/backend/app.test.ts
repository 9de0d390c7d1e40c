import { request } from "node:http";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../../../app/backend/app.js";
import type { Task, TaskList } from "../../../app/shared/task.js";
import { postRepeatedly, recordingLogger, sendUntilClosed } from "../support/oversized.js";
import { listeningPort, type Spawned, spawnTsx } from "../support/processes.js";
import { makeTempDir, type RunningBackend, startBackend, TOKEN } from "../support/servers.js";

let dir: { path: string; remove: () => Promise<void> };
let backend: RunningBackend;

beforeEach(async () => {
  dir = await makeTempDir("todo-backend-");
  backend = await startBackend(dir.path);
});
afterEach(async () => {
  await backend.close();
  await dir.remove();
});

const UNKNOWN_ID = "3f6c1d2e-8a4b-4c1d-9e2f-0a1b2c3d4e5f";

async function call(
  method: string,
  path: string,
  body?: unknown,
  token: string | null = TOKEN,
): Promise<{ status: number; json: unknown; headers: Headers }> {
  const response = await fetch(`${backend.url}${path}`, {
    method,
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    json: text ? JSON.parse(text) : undefined,
    headers: response.headers,
  };
}

async function create(title: string, extra: Record<string, unknown> = {}): Promise<Task> {
  const { status, json } = await call("POST", "/tasks", { title, ...extra });
  expect(status).toBe(201);
  return json as Task;
}

describe("request log lines", () => {
  it("logs each request with its status and time at debug, and none at info", async () => {
    const debug = recordingLogger("debug");
    const info = recordingLogger("info");
    const logged = await Promise.all(
      [debug, info].map(async ({ logger }) => {
        const own = await makeTempDir("todo-backend-log-");
        return { dir: own, backend: await startBackend(own.path, { logger }) };
      }),
    );
    try {
      for (const { backend: running } of logged) {
        expect((await fetch(`${running.url}/health`)).status).toBe(200);
      }
      await expect
        .poll(() => debug.records().filter((record) => record.msg === "request"))
        .toEqual([
          expect.objectContaining({
            method: "GET",
            path: "/health",
            status: 200,
            ms: expect.any(Number),
          }),
        ]);
      expect(info.records().filter((record) => record.msg === "request")).toEqual([]);
    } finally {
      for (const { dir: own, backend: running } of logged) {
        await running.close();
        await own.remove();
      }
    }
  });
});

describe("todo backend HTTP API", () => {
  it("answers GET /health without a token", async () => {
    const { status, json } = await call("GET", "/health", undefined, null);
    expect(status).toBe(200);
    expect(json).toEqual({ status: "ok" });
  });

  it("runs a task through create, get, update, complete, list and delete", async () => {
    const task = await create("Plan trip", { description: "Book hotel", due_date: "2025-07-01" });
    expect(task).toMatchObject({ title: "Plan trip", priority: "medium", status: "pending" });

    expect((await call("GET", `/tasks/${task.id}`)).json).toEqual(task);

    const updated = await call("PATCH", `/tasks/${task.id}`, { priority: "high", due_date: null });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ priority: "high", due_date: null, title: "Plan trip" });

    const done = await call("POST", `/tasks/${task.id}/complete`);
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ status: "completed" });
    expect((done.json as Task).completed_at).not.toBeNull();

    await create("Second");
    const pending = await call("GET", "/tasks?status=pending");
    expect((pending.json as { tasks: Task[] }).tasks.map((t) => t.title)).toEqual(["Second"]);
    const completed = await call("GET", "/tasks?status=completed");
    expect((completed.json as { tasks: Task[] }).tasks.map((t) => t.id)).toEqual([task.id]);
    const all = await call("GET", "/tasks");
    expect((all.json as { tasks: Task[] }).tasks).toHaveLength(2);

    const deleted = await call("DELETE", `/tasks/${task.id}`);
    expect(deleted.status).toBe(204);
    expect((await call("GET", `/tasks/${task.id}`)).status).toBe(404);
  });

  it("answers 401 with no token, a wrong token or another scheme, on every route but health", async () => {
    for (const token of [null, "wrong-token", `${TOKEN}x`]) {
      const { status, json, headers } = await call("GET", "/tasks", undefined, token);
      expect(status).toBe(401);
      expect(json).toEqual({
        error: { code: "UNAUTHORIZED", message: "Missing or invalid bearer token" },
      });
      expect(headers.get("www-authenticate")).toBe("Bearer");
    }
    expect((await call("POST", "/tasks", { title: "x" }, null)).status).toBe(401);
    expect((await call("DELETE", `/tasks/${UNKNOWN_ID}`, undefined, null)).status).toBe(401);
    expect(backend.store.list()).toEqual([]);
  });

  it("answers 400 naming the field for a bad body, query or id", async () => {
    const cases: [string, string, unknown, string][] = [
      ["POST", "/tasks", { title: "" }, "title"],
      ["POST", "/tasks", { title: "t", priority: "urgent" }, "priority"],
      ["POST", "/tasks", { title: "t", due_date: "soon" }, "due_date"],
      ["POST", "/tasks", { title: "t", colour: "red" }, "body"],
      ["POST", "/tasks", "{not json", "body"],
      ["POST", "/tasks", undefined, "body"],
      ["GET", "/tasks?status=done", undefined, "status"],
      ["GET", "/tasks?sort=title", undefined, "query"],
      ["GET", "/tasks?limit=0", undefined, "limit"],
      ["GET", "/tasks?limit=201", undefined, "limit"],
      ["GET", "/tasks?limit=ten", undefined, "limit"],
      ["GET", "/tasks?limit=1.5", undefined, "limit"],
      ["GET", "/tasks?limit=", undefined, "limit"],
      ["GET", "/tasks?cursor=", undefined, "cursor"],
      ["GET", "/tasks?cursor=not-a-cursor", undefined, "cursor"],
      ["GET", "/tasks/not-a-uuid", undefined, "id"],
      ["PATCH", `/tasks/${UNKNOWN_ID}`, {}, "body"],
    ];
    for (const [method, path, body, field] of cases) {
      const { status, json } = await call(method, path, body);
      expect(status, `${method} ${path}`).toBe(400);
      const error = (json as { error: { code: string; message: string; field?: string } }).error;
      expect(error.code).toBe("VALIDATION_FAILED");
      if (field === "body" || field === "query") expect(error.message).toMatch(/^Invalid /);
      else expect(error.field).toBe(field);
    }
  });

  it("says what a bad limit or cursor must be", async () => {
    const limit = await call("GET", "/tasks?limit=500");
    expect(limit.json).toEqual({
      error: {
        code: "VALIDATION_FAILED",
        message: "Invalid query: limit: must be a whole number from 1 to 200",
        field: "limit",
      },
    });
    const cursor = await call("GET", "/tasks?cursor=bm9wZQ");
    expect(cursor.json).toEqual({
      error: {
        code: "VALIDATION_FAILED",
        message:
          "Invalid query: cursor: is not a next_cursor this server returned; list without a cursor to start from the first page",
        field: "cursor",
      },
    });
  });

  it("names an unknown body field in the message", async () => {
    const { json } = await call("POST", "/tasks", { title: "t", colour: "red" });
    expect(JSON.stringify(json)).toContain("colour");
  });

  it("returns 50 tasks per page by default, oldest first, with a cursor to the rest", async () => {
    for (let i = 0; i < 60; i += 1) await create(`task ${i}`);
    const first = (await call("GET", "/tasks")).json as TaskList;
    expect(first.tasks.map((task) => task.title)).toEqual(
      Array.from({ length: 50 }, (_, i) => `task ${i}`),
    );
    expect(first.next_cursor).toEqual(expect.any(String));
    const rest = await call("GET", `/tasks?cursor=${first.next_cursor}`);
    expect(rest.status).toBe(200);
    expect((rest.json as TaskList).tasks.map((task) => task.title)).toEqual(
      Array.from({ length: 10 }, (_, i) => `task ${50 + i}`),
    );
    expect((rest.json as TaskList).next_cursor).toBeNull();
  });

  it("returns up to 200 tasks in one page when asked", async () => {
    await Promise.all(Array.from({ length: 201 }, (_, i) => create(`task ${i}`)));
    const page = (await call("GET", "/tasks?limit=200")).json as TaskList;
    expect(page.tasks).toHaveLength(200);
    expect(page.next_cursor).not.toBeNull();
  });

  it("neither skips nor repeats a task when tasks are added while a client pages", async () => {
    for (const title of ["a", "b", "c", "d", "e"]) await create(title);
    const seen: string[] = [];
    let cursor: string | null = null;
    let added = 0;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const page = (await call("GET", `/tasks?status=pending&limit=2${query}`)).json as TaskList;
      seen.push(...page.tasks.map((task) => task.title));
      cursor = page.next_cursor;
      if (added < 3) await create(`new ${added++}`);
    } while (cursor !== null);
    expect(seen).toEqual(["a", "b", "c", "d", "e", "new 0", "new 1", "new 2"]);
  });

  it("answers 404 for unknown ids and unknown routes", async () => {
    for (const [method, path] of [
      ["GET", `/tasks/${UNKNOWN_ID}`],
      ["PATCH", `/tasks/${UNKNOWN_ID}`],
      ["POST", `/tasks/${UNKNOWN_ID}/complete`],
      ["DELETE", `/tasks/${UNKNOWN_ID}`],
      ["GET", "/nothing-here"],
    ] as const) {
      const body = method === "PATCH" ? { title: "x" } : undefined;
      const { status, json } = await call(method, path, body);
      expect(status, `${method} ${path}`).toBe(404);
      expect((json as { error: { code: string } }).error.code).toBe("NOT_FOUND");
    }
  });

  it("answers 405 with Allow for a known route and a wrong method", async () => {
    const { status, headers } = await call("PUT", "/tasks");
    expect(status).toBe(405);
    expect(headers.get("allow")).toBe("GET, POST");
  });

  it("answers 413 for a body over the cap and keeps serving", async () => {
    const { status, json } = await call("POST", "/tasks", {
      title: "t",
      description: "x".repeat(MAX_BODY_BYTES),
    });
    expect(status).toBe(413);
    expect((json as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");
    expect((await call("GET", "/health")).status).toBe(200);
  });

  it("answers 413 as soon as a streamed body passes the cap, before the client has finished", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${backend.url}/tasks`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "transfer-encoding": "chunked" },
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on("error", reject);
      req.write("x".repeat(MAX_BODY_BYTES + 1));
    });
    expect(status).toBe(413);
  });

  it("closes the socket of a client trickling a refused body once the time bound passes", async () => {
    const { logger, records } = recordingLogger();
    const slowDir = await makeTempDir("todo-backend-slow-");
    const slow = await startBackend(slowDir.path, {
      logger,
      drainLimits: { maxBytes: 16 * 1024 * 1024, timeoutMs: 300 },
    });
    try {
      const head =
        `POST /tasks HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${TOKEN}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${1024 ** 3}\r\n\r\n`;
      const outcome = await sendUntilClosed(slow.port, head, { trickleMs: 10 });
      expect(outcome.response).toMatch(/^HTTP\/1\.1 413 /);
      expect(records().find((record) => record.reason === "time")).toMatchObject({
        msg: "cut off a client still sending a refused body",
        status: 413,
      });
    } finally {
      await slow.close();
      await slowDir.remove();
    }
  });

  it("never sends a stack trace to the client", async () => {
    for (const [method, path, body] of [
      ["POST", "/tasks", "{not json"],
      ["GET", "/tasks/not-a-uuid", undefined],
      ["GET", `/tasks/${UNKNOWN_ID}`, undefined],
    ] as const) {
      const { json } = await call(method, path, body);
      expect(JSON.stringify(json)).not.toMatch(/\bat .+\.(ts|js):\d+/);
    }
  });

  it("keeps tasks across a restart on the same data directory", async () => {
    const a = await create("survives");
    await call("POST", `/tasks/${a.id}/complete`);
    const before = (await call("GET", "/tasks")).json;
    await backend.close();

    backend = await startBackend(dir.path);
    expect((await call("GET", "/tasks")).json).toEqual(before);
  });

  it("keeps all 50 tasks created by parallel requests after a restart", async () => {
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => call("POST", "/tasks", { title: `parallel ${i}` })),
    );
    expect(responses.every((response) => response.status === 201)).toBe(true);
    await backend.close();

    backend = await startBackend(dir.path);
    const { json } = await call("GET", "/tasks");
    const titles = (json as { tasks: Task[] }).tasks.map((task) => task.title);
    expect(new Set(titles)).toEqual(new Set(Array.from({ length: 50 }, (_, i) => `parallel ${i}`)));
  });
});

describe("bodies the backend refuses, with the backend in its own process as in production", () => {
  // In one process the client reads the answer before the server's close reaches it, so
  // only a separate process shows whether a reset replaces the 413.
  const body = new Uint8Array(8 * 1024 * 1024).fill(0x78);
  let server: Spawned;
  let processDir: { path: string; remove: () => Promise<void> };
  let url: string;

  beforeAll(async () => {
    processDir = await makeTempDir("todo-backend-process-");
    server = spawnTsx("app/backend/main.ts", [], {
      SERVICE_AUTH_TOKEN: TOKEN,
      DATA_DIR: processDir.path,
      HOST: "127.0.0.1",
      PORT: "0",
    });
    url = `http://127.0.0.1:${await listeningPort(server)}/tasks`;
  });
  afterAll(async () => {
    await server.stop("SIGKILL");
    await processDir.remove();
  });

  it("answers 413 to 20 of 20 fetch POSTs of an 8 MiB body, none lost to a connection reset", async () => {
    const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    const outcomes = await postRepeatedly(url, 20, () => body, headers);
    expect(outcomes).toEqual(Array(20).fill("413 PAYLOAD_TOO_LARGE"));
    const list = await fetch(url, { headers });
    expect(((await list.json()) as { tasks: unknown[] }).tasks).toEqual([]);
  });

  it("answers 401 to 20 of 20 fetch POSTs of an 8 MiB body without a token", async () => {
    const headers = { "content-type": "application/json" };
    const outcomes = await postRepeatedly(url, 20, () => body, headers, "all at once");
    expect(outcomes).toEqual(Array(20).fill("401 UNAUTHORIZED"));
  });
});
