import { z } from "zod";
import { LogLevelVar, PortVar, parseEnv } from "../shared/config.js";

export const DEFAULT_MCP_PORT = 3000;
export const DEFAULT_BACKEND_BASE_URL = "http://localhost:8000";
export const DEFAULT_ALLOWED_HOSTS = ["localhost", "127.0.0.1", "mcp-server"] as const;

const HttpUrl = z
  .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" })
  // fetch refuses URLs with credentials, and they would end up in logs.
  .refine((value) => {
    const url = URL.canParse(value) ? new URL(value) : undefined;
    return url === undefined || (url.username === "" && url.password === "");
  }, "must not contain a username or password")
  .transform((value) => value.replace(/\/+$/, ""));

const Seconds = z.coerce
  .number({ error: "must be a number of seconds" })
  .positive("must be more than 0 seconds")
  .max(600, "must be at most 600 seconds");

const HostList = z
  .string()
  .transform((value) =>
    value
      .split(",")
      .map((host) => host.trim().toLowerCase())
      .filter(Boolean),
  )
  .pipe(z.array(z.string()).min(1, "must name at least one host"));

/** The MCP server's environment, parsed once at start-up. */
export const Config = z
  .object({
    BACKEND_BASE_URL: HttpUrl.optional(),
    FASTAPI_BASE_URL: HttpUrl.optional(),
    SERVICE_AUTH_TOKEN: z.string({
      error: "is required: set it to the bearer token the todo backend expects",
    }),
    BACKEND_TIMEOUT: Seconds.default(30),
    BACKEND_MAX_RETRIES: z.coerce
      .number({ error: "must be a whole number" })
      .int("must be a whole number")
      .min(0, "must be 0–10")
      .max(10, "must be 0–10")
      .default(2),
    MCP_SERVER_PORT: PortVar.default(DEFAULT_MCP_PORT),
    PORT: PortVar.optional(),
    MCP_HOST: z.string().default("0.0.0.0"),
    MCP_ALLOWED_HOSTS: HostList.default([...DEFAULT_ALLOWED_HOSTS]),
    MCP_AUTH_TOKEN: z.string().optional(),
    MCP_LOG_LEVEL: LogLevelVar.default("info"),
  })
  .transform((env) => ({
    backend: {
      // FASTAPI_BASE_URL is the name the original Python backend's deployments use.
      baseUrl: env.BACKEND_BASE_URL ?? env.FASTAPI_BASE_URL ?? DEFAULT_BACKEND_BASE_URL,
      token: env.SERVICE_AUTH_TOKEN,
      timeoutMs: Math.round(env.BACKEND_TIMEOUT * 1000),
      maxRetries: env.BACKEND_MAX_RETRIES,
    },
    http: {
      port: env.PORT ?? env.MCP_SERVER_PORT,
      host: env.MCP_HOST,
      allowedHosts: env.MCP_ALLOWED_HOSTS,
      authToken: env.MCP_AUTH_TOKEN,
    },
    logLevel: env.MCP_LOG_LEVEL,
  }));
export type Config = z.infer<typeof Config>;

/** Parses the MCP server configuration; throws ConfigError with a one-line message. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  return parseEnv(Config, env);
}
