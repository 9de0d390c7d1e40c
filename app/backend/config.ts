import { z } from "zod";
import { LogLevelVar, PortVar, parseEnv } from "../shared/config.js";

export const DEFAULT_BACKEND_PORT = 8000;

/** The backend's environment, parsed once at start-up. */
export const Config = z
  .object({
    PORT: PortVar.default(DEFAULT_BACKEND_PORT),
    HOST: z.string().default("0.0.0.0"),
    DATA_DIR: z.string().default("./data"),
    SERVICE_AUTH_TOKEN: z.string({
      error: "is required: set it to the bearer token clients must send",
    }),
    LOG_LEVEL: LogLevelVar.default("info"),
  })
  .transform((env) => ({
    port: env.PORT,
    host: env.HOST,
    dataDir: env.DATA_DIR,
    serviceAuthToken: env.SERVICE_AUTH_TOKEN,
    logLevel: env.LOG_LEVEL,
  }));
export type Config = z.infer<typeof Config>;

/** Parses the backend configuration; throws ConfigError with a one-line message. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  return parseEnv(Config, env);
}
