import { z } from "zod";
import { ConfigError } from "./errors.js";
import { LogLevel } from "./logger.js";

/** Process exit code for an unusable configuration. */
export const EXIT_CONFIG = 2;

/**
 * Parses environment variables with a zod schema. Empty strings count as unset, because
 * compose files and `.env` templates routinely pass `VAR=` for "not configured".
 * Throws a ConfigError whose message is a single line naming every bad variable.
 */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: Readonly<Record<string, string | undefined>>,
): z.infer<S> {
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ""),
  );
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.length > 0 ? issue.path.join(".") : "environment";
    return `${name}: ${issue.message}`;
  });
  throw new ConfigError(`invalid configuration: ${problems.join("; ")}`, { cause: result.error });
}

/** A TCP port variable: 0–65535 (0 picks a free port). */
export const PortVar = z.coerce
  .number({ error: "must be a port number" })
  .int("must be a whole number")
  .min(0, "must be 0–65535")
  .max(65535, "must be 0–65535");

/** A log level variable, case-insensitive. */
export const LogLevelVar = z
  .string()
  .toLowerCase()
  .pipe(z.enum(LogLevel.options, { error: `must be one of ${LogLevel.options.join(", ")}` }));
