import type { z } from "zod";

/** Every error the app raises on purpose carries one of these codes. */
export const ErrorCode = {
  CONFIG_INVALID: "CONFIG_INVALID",
  VALIDATION_FAILED: "VALIDATION_FAILED",
  UNAUTHORIZED: "UNAUTHORIZED",
  NOT_FOUND: "NOT_FOUND",
  METHOD_NOT_ALLOWED: "METHOD_NOT_ALLOWED",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  STORAGE_FAILED: "STORAGE_FAILED",
  BACKEND_UNREACHABLE: "BACKEND_UNREACHABLE",
  BACKEND_TIMEOUT: "BACKEND_TIMEOUT",
  BACKEND_REJECTED_CREDENTIALS: "BACKEND_REJECTED_CREDENTIALS",
  BACKEND_FAILED: "BACKEND_FAILED",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base of the app's error hierarchy: a message a person can act on, plus a stable code. */
export class AppError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The environment does not describe a runnable server. */
export class ConfigError extends AppError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.CONFIG_INVALID, message, options);
  }
}

/** A request body, parameter or tool argument failed validation. */
export class ValidationError extends AppError {
  /** The first offending field, dotted (`due_date`, `tasks.0.title`), if known. */
  readonly field: string | undefined;

  constructor(message: string, field?: string, options?: ErrorOptions) {
    super(ErrorCode.VALIDATION_FAILED, message, options);
    this.field = field;
  }

  /**
   * Builds a ValidationError from a zod error. `where` names what was parsed (`body`,
   * `query`, `id`); issues without a path are attributed to `field` when given.
   */
  static fromZod(error: z.ZodError, where: string, field?: string): ValidationError {
    const pathOf = (issue: z.core.$ZodIssue): string | undefined =>
      issue.path.length > 0 ? issue.path.join(".") : field;
    const details = error.issues
      .map((issue) => {
        const path = pathOf(issue);
        return path === undefined || path === where ? issue.message : `${path}: ${issue.message}`;
      })
      .join("; ");
    const first = error.issues[0];
    return new ValidationError(`Invalid ${where}: ${details}`, first && pathOf(first), {
      cause: error,
    });
  }
}

/** The caller did not present the expected bearer token. */
export class UnauthorizedError extends AppError {
  constructor(message = "Missing or invalid bearer token", options?: ErrorOptions) {
    super(ErrorCode.UNAUTHORIZED, message, options);
  }
}

/** The addressed resource does not exist. */
export class NotFoundError extends AppError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.NOT_FOUND, message, options);
  }
}

/** The route exists but not for this HTTP method. */
export class MethodNotAllowedError extends AppError {
  readonly allow: readonly string[];

  constructor(allow: readonly string[], options?: ErrorOptions) {
    super(ErrorCode.METHOD_NOT_ALLOWED, `Method not allowed; use ${allow.join(", ")}`, options);
    this.allow = allow;
  }
}

/** A request body exceeded the size cap. */
export class PayloadTooLargeError extends AppError {
  readonly limitBytes: number;

  constructor(limitBytes: number, options?: ErrorOptions) {
    super(
      ErrorCode.PAYLOAD_TOO_LARGE,
      `Request body exceeds the limit of ${limitBytes} bytes`,
      options,
    );
    this.limitBytes = limitBytes;
  }
}

/** The task store could not read or durably write its data. */
export class StorageError extends AppError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.STORAGE_FAILED, message, options);
  }
}

/** Base for failures talking to the todo backend from the MCP server. */
export class BackendError extends AppError {}

/** The backend could not be connected to (refused, DNS failure, reset). */
export class BackendUnreachableError extends BackendError {
  /** The socket-level error code (`ECONNREFUSED`, `ENOTFOUND`, …), if one was reported. */
  readonly networkCode: string | undefined;

  constructor(message: string, networkCode?: string, options?: ErrorOptions) {
    super(ErrorCode.BACKEND_UNREACHABLE, message, options);
    this.networkCode = networkCode;
  }
}

/** The backend did not answer within the configured timeout. */
export class BackendTimeoutError extends BackendError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.BACKEND_TIMEOUT, message, options);
  }
}

/** The backend refused the MCP server's service token. */
export class BackendCredentialsError extends BackendError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.BACKEND_REJECTED_CREDENTIALS, message, options);
  }
}

/** The backend answered with a server error or a body that is not what the contract says. */
export class BackendFailedError extends BackendError {
  readonly status: number | undefined;

  constructor(message: string, status?: number, options?: ErrorOptions) {
    super(ErrorCode.BACKEND_FAILED, message, options);
    this.status = status;
  }
}
