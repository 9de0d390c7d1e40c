import { z } from "zod";

export const LogLevel = z.enum(["debug", "info", "warn", "error", "silent"]);
export type LogLevel = z.infer<typeof LogLevel>;

const SEVERITY: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };
const SECRET_KEY = /authorization|token|secret|password|cookie/i;
const REDACTED = "[REDACTED]";

export type LogFields = Record<string, unknown>;

/** A structured logger writing one JSON object per line. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Whether lines at `level` are written: lets a caller skip work done only for a log line. */
  enabled(level: Exclude<LogLevel, "silent">): boolean;
}

export interface LoggerOptions {
  /** Name of the emitting service, written as `name` on every line. */
  name: string;
  level: LogLevel;
  /** Literal secret values to scrub wherever they appear, even inside messages. */
  secrets?: readonly (string | undefined)[];
  /** Where lines go; stderr by default so stdout stays free for protocol messages. */
  write?: (line: string) => void;
}

/**
 * Creates a JSON-lines logger. Values under secret-looking keys and any occurrence of a
 * configured secret are replaced by `[REDACTED]` before anything is written.
 */
export function createLogger(options: LoggerOptions): Logger {
  const threshold = SEVERITY[options.level];
  const secrets = (options.secrets ?? []).filter((s): s is string => Boolean(s && s.length >= 4));
  const write = options.write ?? ((line: string) => process.stderr.write(line));

  const scrub = (text: string): string =>
    secrets.reduce((acc, secret) => acc.split(secret).join(REDACTED), text);

  const emit = (level: Exclude<LogLevel, "silent">, msg: string, fields?: LogFields): void => {
    if (SEVERITY[level] < threshold) return;
    const record = { time: new Date().toISOString(), level, name: options.name, msg, ...fields };
    write(`${scrub(JSON.stringify(record, redactingReplacer))}\n`);
  };

  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    enabled: (level) => SEVERITY[level] >= threshold,
  };
}

/** A logger that drops everything; for callers that must not print. */
export const silentLogger: Logger = createLogger({ name: "silent", level: "silent" });

function redactingReplacer(key: string, value: unknown): unknown {
  if (key !== "" && SECRET_KEY.test(key) && value !== undefined && value !== null) return REDACTED;
  if (value instanceof Error) return serializeError(value);
  return value;
}

function serializeError(error: Error): Record<string, unknown> {
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    ...(code === undefined ? {} : { code }),
    ...(error.stack ? { stack: error.stack } : {}),
    ...(error.cause === undefined ? {} : { cause: error.cause }),
  };
}
