import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { z } from "zod";
import { bearerMatches } from "../shared/auth.js";
import {
  AppError,
  ErrorCode,
  MethodNotAllowedError,
  NotFoundError,
  UnauthorizedError,
  ValidationError,
} from "../shared/errors.js";
import { type DrainLimits, readJsonBody, refuseBody, sendJson } from "../shared/http.js";
import type { Logger } from "../shared/logger.js";
import {
  CreateTaskInput,
  type ErrorBody,
  ListTasksQuery,
  TaskId,
  type TaskList,
  UpdateTaskInput,
} from "../shared/task.js";
import { decodeCursor } from "./cursor.js";
import type { TaskStore } from "./store.js";

/** Largest request body the backend reads; a task with maximal fields is well under 40 KiB. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface BackendDeps {
  store: TaskStore;
  serviceAuthToken: string;
  logger: Logger;
  /** Bounds for reading and discarding a refused body before closing; defaults suit production. */
  drainLimits?: DrainLimits;
}

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.VALIDATION_FAILED]: 400,
  [ErrorCode.UNAUTHORIZED]: 401,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.METHOD_NOT_ALLOWED]: 405,
  [ErrorCode.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCode.STORAGE_FAILED]: 503,
};

/**
 * Creates the todo backend's HTTP server (not yet listening). Every route except
 * `GET /health` requires `Authorization: Bearer <serviceAuthToken>`.
 */
export function createBackendServer(deps: BackendDeps): Server {
  // Timing every request costs a closure and a listener each; only a debug log reads it.
  const logRequests = deps.logger.enabled("debug");
  const server = createServer((req, res) => {
    if (logRequests) {
      const started = performance.now();
      res.once("close", () => {
        deps.logger.debug("request", {
          method: req.method,
          path: req.url,
          status: res.statusCode,
          ms: Math.round((performance.now() - started) * 10) / 10,
        });
      });
    }
    handle(deps, req, res).catch((error: unknown) => respondWithError(deps, req, res, error));
  });
  // Bound how long a slow or stalled client may hold a connection.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  return server;
}

async function handle(deps: BackendDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://backend.invalid");
  const method = req.method ?? "GET";
  const segments = url.pathname.split("/").filter(Boolean);

  if (url.pathname === "/health") {
    if (method !== "GET" && method !== "HEAD") throw new MethodNotAllowedError(["GET"]);
    sendJson(res, 200, { status: "ok" });
    return;
  }

  if (!bearerMatches(req.headers.authorization, deps.serviceAuthToken)) {
    throw new UnauthorizedError();
  }

  const { store } = deps;
  if (segments[0] !== "tasks" || segments.length > 3) throw routeNotFound(url.pathname);

  if (segments.length === 1) {
    if (method === "GET") {
      const query = parse(ListTasksQuery, Object.fromEntries(url.searchParams), "query");
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      if (query.cursor !== undefined && after === undefined) {
        throw new ValidationError(
          "Invalid query: cursor: is not a next_cursor this server returned; list without a cursor to start from the first page",
          "cursor",
        );
      }
      const page = store.page({ status: query.status, limit: query.limit, after });
      const body: TaskList = { tasks: page.tasks, next_cursor: page.nextCursor };
      sendJson(res, 200, body);
      return;
    }
    if (method === "POST") {
      const body = parse(CreateTaskInput, await readJsonBody(req, MAX_BODY_BYTES), "body", "body");
      sendJson(res, 201, await store.create(body));
      return;
    }
    throw new MethodNotAllowedError(["GET", "POST"]);
  }

  const id = parse(TaskId, segments[1], "id", "id");
  if (segments.length === 3) {
    if (segments[2] !== "complete") throw routeNotFound(url.pathname);
    if (method !== "POST") throw new MethodNotAllowedError(["POST"]);
    sendJson(res, 200, await store.complete(id));
    return;
  }
  if (method === "GET") {
    sendJson(res, 200, store.get(id));
    return;
  }
  if (method === "PATCH") {
    const patch = parse(UpdateTaskInput, await readJsonBody(req, MAX_BODY_BYTES), "body", "body");
    sendJson(res, 200, await store.update(id, patch));
    return;
  }
  if (method === "DELETE") {
    await store.delete(id);
    res.writeHead(204).end();
    return;
  }
  throw new MethodNotAllowedError(["GET", "PATCH", "DELETE"]);
}

function parse<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: string,
  field?: string,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw ValidationError.fromZod(result.error, where, field);
}

function routeNotFound(path: string): NotFoundError {
  return new NotFoundError(`No route ${path}`);
}

function respondWithError(
  { logger, drainLimits }: BackendDeps,
  req: IncomingMessage,
  res: ServerResponse,
  error: unknown,
): void {
  if (error instanceof AppError) {
    const status = STATUS_BY_CODE[error.code] ?? 500;
    const body: ErrorBody = {
      error: {
        code: error.code,
        message: error.message,
        ...(error instanceof ValidationError && error.field ? { field: error.field } : {}),
      },
    };
    const headers: Record<string, string> = {};
    if (error instanceof UnauthorizedError) headers["www-authenticate"] = "Bearer";
    if (error instanceof MethodNotAllowedError) headers.allow = error.allow.join(", ");
    if (status >= 500) logger.error("request failed", { method: req.method, error });
    // The body of a refused or unread request may still be in the socket.
    if (status === 413 || status === 401) {
      refuseBody(req, res, status, body, { headers, drain: drainLimits, logger });
    } else sendJson(res, status, body, headers);
    return;
  }
  logger.error("unexpected error", { method: req.method, path: req.url, error });
  const body: ErrorBody = { error: { code: "INTERNAL", message: "Internal server error" } };
  sendJson(res, 500, body);
}
