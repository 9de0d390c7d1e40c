import pRetry from "p-retry";
import type { z } from "zod";
import {
  BackendCredentialsError,
  BackendFailedError,
  BackendTimeoutError,
  BackendUnreachableError,
  NotFoundError,
  ValidationError,
} from "../shared/errors.js";
import {
  HttpTimeoutError,
  type KeepAliveAgents,
  keepAliveAgents,
  send,
} from "../shared/http-request.js";
import type { Logger } from "../shared/logger.js";
import {
  type CreateTaskInput,
  ErrorBody,
  type ListTasksRequest,
  Task,
  type TaskId,
  TaskList,
  type UpdateTaskInput,
} from "../shared/task.js";

export interface BackendClientOptions {
  baseUrl: string;
  token: string;
  /** Per-attempt timeout. */
  timeoutMs: number;
  /** Extra attempts after the first, only where a retry cannot duplicate an effect. */
  maxRetries: number;
  logger: Logger;
  /** First backoff delay; later ones double. */
  retryDelayMs?: number;
}

/** What the MCP tools need from the todo backend. */
export interface TaskBackend {
  /** One page of tasks, oldest first, with the cursor of the next page (null on the last). */
  listTasks(request: ListTasksRequest): Promise<TaskList>;
  getTask(id: TaskId): Promise<Task>;
  createTask(input: CreateTaskInput): Promise<Task>;
  updateTask(id: TaskId, patch: UpdateTaskInput): Promise<Task>;
  completeTask(id: TaskId): Promise<Task>;
  deleteTask(id: TaskId): Promise<void>;
}

// Connection failures that happen before any byte of the request reaches the backend.
const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);
const RETRYABLE_STATUS = new Set([502, 503, 504]);

interface Call {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  body?: unknown;
  /** Repeating the call has the same effect as making it once. */
  idempotent: boolean;
  /** Used in 404 messages. */
  taskId?: TaskId;
}

/**
 * HTTP client for the todo backend. Every failure surfaces as an AppError subclass whose
 * message tells a person what went wrong and what to check; the token never appears in one.
 *
 * Retry policy: idempotent calls (list, get, update, complete, delete) are retried on
 * connection errors, timeouts and 502/503/504. `create` is retried only when the
 * connection was refused or could not be opened, i.e. the backend never saw the request.
 */
export class BackendClient implements TaskBackend {
  readonly #options: BackendClientOptions;
  readonly #displayUrl: string;
  readonly #agents: KeepAliveAgents = keepAliveAgents();

  constructor(options: BackendClientOptions) {
    this.#options = options;
    this.#displayUrl = options.baseUrl.replace(/\/+$/, "");
  }

  /** Closes the idle connections to the backend, so the process can exit without waiting. */
  close(): void {
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }

  async listTasks({ status, limit, cursor }: ListTasksRequest): Promise<TaskList> {
    const query = new URLSearchParams({ status });
    if (limit !== undefined) query.set("limit", String(limit));
    if (cursor !== undefined) query.set("cursor", cursor);
    const body = await this.#call({ method: "GET", path: `/tasks?${query}`, idempotent: true });
    return this.#expect(TaskList, body, "GET /tasks");
  }

  async getTask(id: TaskId): Promise<Task> {
    const body = await this.#call({
      method: "GET",
      path: taskPath(id),
      idempotent: true,
      taskId: id,
    });
    return this.#expect(Task, body, "GET /tasks/{id}");
  }

  async createTask(input: CreateTaskInput): Promise<Task> {
    const body = await this.#call({
      method: "POST",
      path: "/tasks",
      body: input,
      idempotent: false,
    });
    return this.#expect(Task, body, "POST /tasks");
  }

  async updateTask(id: TaskId, patch: UpdateTaskInput): Promise<Task> {
    // Sets absolute values, so a repeat leaves the same state: safe to retry.
    const body = await this.#call({
      method: "PATCH",
      path: taskPath(id),
      body: patch,
      idempotent: true,
      taskId: id,
    });
    return this.#expect(Task, body, "PATCH /tasks/{id}");
  }

  async completeTask(id: TaskId): Promise<Task> {
    // The backend leaves an already completed task untouched, so this is idempotent.
    const body = await this.#call({
      method: "POST",
      path: `${taskPath(id)}/complete`,
      idempotent: true,
      taskId: id,
    });
    return this.#expect(Task, body, "POST /tasks/{id}/complete");
  }

  async deleteTask(id: TaskId): Promise<void> {
    await this.#call({ method: "DELETE", path: taskPath(id), idempotent: true, taskId: id });
  }

  /** Checks that the backend answers `GET /health` within `timeoutMs`. */
  async health(timeoutMs = Math.min(this.#options.timeoutMs, 5000)): Promise<void> {
    await this.#attempt({ method: "GET", path: "/health", idempotent: true }, timeoutMs);
  }

  async #call(call: Call): Promise<unknown> {
    const { maxRetries, retryDelayMs = 200, logger } = this.#options;
    return pRetry(() => this.#attempt(call, this.#options.timeoutMs), {
      retries: maxRetries,
      minTimeout: retryDelayMs,
      factor: 2,
      maxTimeout: retryDelayMs * 8,
      randomize: true,
      shouldRetry: ({ error }) => isRetryable(error, call.idempotent),
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        logger.warn("backend call failed", {
          method: call.method,
          path: call.path.replace(/\?.*$/, ""),
          attempt: attemptNumber,
          retriesLeft,
          code: (error as { code?: string }).code,
          error: error.message,
        });
      },
    });
  }

  async #attempt(call: Call, timeoutMs: number): Promise<unknown> {
    const where = `${call.method} ${this.#displayUrl}${call.path.replace(/\?.*$/, "")}`;
    let response: { status: number; body: Buffer };
    try {
      response = await send(
        new URL(`${this.#options.baseUrl}${call.path}`),
        {
          method: call.method,
          headers: {
            authorization: `Bearer ${this.#options.token}`,
            accept: "application/json",
            ...(call.body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: call.body === undefined ? undefined : JSON.stringify(call.body),
          timeoutMs,
        },
        this.#agents,
      );
    } catch (error) {
      throw this.#transportError(error, where, timeoutMs);
    }

    const json = parseJson(response.body.toString("utf8"));
    if (response.status >= 200 && response.status < 300) return json;

    const detail = ErrorBody.safeParse(json);
    const message = detail.success ? detail.data.error.message : undefined;
    switch (response.status) {
      case 400:
      case 413:
      case 422:
        throw new ValidationError(
          `The todo backend rejected the request: ${message ?? `HTTP ${response.status}`}`,
          detail.success ? detail.data.error.field : undefined,
        );
      case 401:
      case 403:
        throw new BackendCredentialsError(
          `The todo backend refused the MCP server's credentials (HTTP ${response.status}). ` +
            "Set SERVICE_AUTH_TOKEN on the MCP server to the same value as on the backend.",
        );
      case 404:
        throw new NotFoundError(
          call.taskId
            ? `No task with id ${call.taskId}. Call list_tasks to see the ids that exist.`
            : `The todo backend has no route ${where} (HTTP 404). Check BACKEND_BASE_URL.`,
        );
      default:
        throw new BackendFailedError(
          `The todo backend failed on ${where} (HTTP ${response.status}${message ? `: ${message}` : ""}). ` +
            "Try again shortly; if it persists, check the backend's logs.",
          response.status,
        );
    }
  }

  #expect<S extends z.ZodType>(schema: S, body: unknown, what: string): z.output<S> {
    const result = schema.safeParse(body);
    if (result.success) return result.data;
    throw new BackendFailedError(
      `The todo backend answered ${what} with an unexpected body; is BACKEND_BASE_URL pointing at the todo backend?`,
      undefined,
      { cause: result.error },
    );
  }

  #transportError(error: unknown, where: string, timeoutMs: number): Error {
    if (isTimeout(error)) {
      return new BackendTimeoutError(
        `The todo backend did not answer ${where} within ${formatSeconds(timeoutMs)}. ` +
          "It may be overloaded; try again, or raise BACKEND_TIMEOUT.",
        { cause: error },
      );
    }
    const code = errorCode(error);
    return new BackendUnreachableError(
      `Could not reach the todo backend at ${this.#displayUrl} (${code ?? "network error"}). ` +
        "Check that it is running and that BACKEND_BASE_URL is right.",
      code,
      { cause: error },
    );
  }
}

function taskPath(id: TaskId): string {
  return `/tasks/${encodeURIComponent(id)}`;
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof HttpTimeoutError;
}

function errorCode(error: unknown): string | undefined {
  // Node's own errors carry `code`; a wrapped one carries it on a `cause`.
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = current.cause;
  }
  return undefined;
}

/** Whether a failed attempt may be repeated without risking a duplicated effect. */
export function isRetryable(error: unknown, idempotent: boolean): boolean {
  if (error instanceof BackendUnreachableError) {
    const code = error.networkCode;
    return idempotent || (code !== undefined && NOT_SENT_CODES.has(code));
  }
  if (error instanceof BackendTimeoutError) return idempotent;
  if (error instanceof BackendFailedError) {
    return idempotent && error.status !== undefined && RETRYABLE_STATUS.has(error.status);
  }
  return false;
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
