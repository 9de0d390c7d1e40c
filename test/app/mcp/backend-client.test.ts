import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BackendClient, isRetryable } from "../../../app/mcp/backend-client.js";
import {
  BackendCredentialsError,
  BackendFailedError,
  BackendTimeoutError,
  BackendUnreachableError,
  NotFoundError,
  ValidationError,
} from "../../../app/shared/errors.js";
import { silentLogger } from "../../../app/shared/logger.js";
import {
  type FakeBackend,
  freePort,
  makeTempDir,
  type RunningBackend,
  startBackend,
  startFakeBackend,
  TOKEN,
} from "../support/servers.js";

const UNKNOWN_ID = "3f6c1d2e-8a4b-4c1d-9e2f-0a1b2c3d4e5f";

function client(
  baseUrl: string,
  options: Partial<{ token: string; timeoutMs: number; maxRetries: number }> = {},
) {
  return new BackendClient({
    baseUrl,
    token: options.token ?? TOKEN,
    timeoutMs: options.timeoutMs ?? 2000,
    maxRetries: options.maxRetries ?? 0,
    retryDelayMs: 10,
    logger: silentLogger,
  });
}

describe("BackendClient against the real backend", () => {
  let dir: { path: string; remove: () => Promise<void> };
  let backend: RunningBackend;
  beforeEach(async () => {
    dir = await makeTempDir("todo-client-");
    backend = await startBackend(dir.path);
  });
  afterEach(async () => {
    await backend.close();
    await dir.remove();
  });

  it("creates, reads, updates, completes, lists and deletes", async () => {
    const api = client(backend.url);
    const task = await api.createTask({ title: "via client" });
    expect(await api.getTask(task.id)).toEqual(task);
    expect((await api.updateTask(task.id, { priority: "low" })).priority).toBe("low");
    expect((await api.completeTask(task.id)).status).toBe("completed");
    expect((await api.listTasks({ status: "completed" })).tasks).toHaveLength(1);
    await api.deleteTask(task.id);
    expect(await api.listTasks({ status: "all" })).toEqual({ tasks: [], next_cursor: null });
  });

  it("maps 404 to NotFoundError telling the model to list tasks", async () => {
    await expect(client(backend.url).getTask(UNKNOWN_ID)).rejects.toThrow(
      new NotFoundError(
        `No task with id ${UNKNOWN_ID}. Call list_tasks to see the ids that exist.`,
      ),
    );
  });

  it("maps 400 to ValidationError carrying the backend's field", async () => {
    const error = await client(backend.url)
      .createTask({ title: "t", due_date: "someday" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe("due_date");
  });

  it("maps a wrong token to a credentials error that does not echo either token", async () => {
    const error = await client(backend.url, { token: "wrong-token-value" })
      .listTasks({ status: "all" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendCredentialsError);
    const message = (error as Error).message;
    expect(message).toContain("SERVICE_AUTH_TOKEN");
    expect(message).not.toContain("wrong-token-value");
    expect(message).not.toContain(TOKEN);
  });
});

describe("BackendClient failure handling", () => {
  let fake: FakeBackend | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  it("reports a backend that is down as unreachable, naming the URL and the socket error", async () => {
    const port = await freePort();
    const error = await client(`http://127.0.0.1:${port}`, { maxRetries: 1 })
      .listTasks({ status: "all" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnreachableError);
    expect((error as BackendUnreachableError).networkCode).toBe("ECONNREFUSED");
    expect((error as Error).message).toBe(
      `Could not reach the todo backend at http://127.0.0.1:${port} (ECONNREFUSED). ` +
        "Check that it is running and that BACKEND_BASE_URL is right.",
    );
  });

  it("times out a slow backend and retries an idempotent read", async () => {
    fake = await startFakeBackend({ delayMs: 2000, body: { tasks: [] } });
    const error = await client(fake.url, { timeoutMs: 200, maxRetries: 1 })
      .listTasks({ status: "all" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendTimeoutError);
    expect((error as Error).message).toMatch(/within 0\.2 s.*BACKEND_TIMEOUT/);
    expect(fake.requests).toEqual(["GET /tasks?status=all", "GET /tasks?status=all"]);
  });

  it("never retries a create that timed out, since the backend may have stored it", async () => {
    fake = await startFakeBackend({ delayMs: 2000 });
    const error = await client(fake.url, { timeoutMs: 200, maxRetries: 2 })
      .createTask({ title: "once" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendTimeoutError);
    expect(fake.requests).toEqual(["POST /tasks"]);
  });

  it("retries a 503 on a read but not on a create", async () => {
    fake = await startFakeBackend({
      status: 503,
      body: { error: { code: "STORAGE_FAILED", message: "disk full" } },
    });
    const read = await client(fake.url, { maxRetries: 2 })
      .getTask(UNKNOWN_ID)
      .catch((e: unknown) => e);
    expect(read).toBeInstanceOf(BackendFailedError);
    expect((read as Error).message).toContain("HTTP 503: disk full");
    expect(fake.requests).toHaveLength(3);

    fake.requests.length = 0;
    await client(fake.url, { maxRetries: 2 })
      .createTask({ title: "x" })
      .catch(() => undefined);
    expect(fake.requests).toHaveLength(1);
  });

  it("rejects a success body that breaks the Task contract", async () => {
    fake = await startFakeBackend({ body: { id: "nope" } });
    await expect(client(fake.url).getTask(UNKNOWN_ID)).rejects.toThrow(
      /unexpected body; is BACKEND_BASE_URL pointing at the todo backend/,
    );
  });
});

describe("isRetryable", () => {
  it("retries a refused connection even for a create, but not a reset one", () => {
    const refused = new BackendUnreachableError("x", "ECONNREFUSED");
    const reset = new BackendUnreachableError("x", "ECONNRESET");
    expect(isRetryable(refused, false)).toBe(true);
    expect(isRetryable(reset, false)).toBe(false);
    expect(isRetryable(reset, true)).toBe(true);
  });

  it("never retries client errors", () => {
    expect(isRetryable(new ValidationError("bad"), true)).toBe(false);
    expect(isRetryable(new NotFoundError("gone"), true)).toBe(false);
    expect(isRetryable(new BackendCredentialsError("no"), true)).toBe(false);
    expect(isRetryable(new BackendFailedError("500", 500), true)).toBe(false);
  });
});
