import { randomBytes } from "node:crypto";
import type { Config } from "./schema.js";

/** `image.runEnv` made concrete: generated values are fresh random secrets for this run. */
export function resolveRunEnv(runEnv: Config["image"]["runEnv"]): {
  env: Record<string, string>;
  secrets: string[];
} {
  const env: Record<string, string> = {};
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(runEnv)) {
    if (typeof value === "string") env[name] = value;
    else {
      env[name] = randomBytes(24).toString("hex");
      secrets.push(env[name]);
    }
  }
  return { env, secrets };
}
