import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { z } from "zod";
import type { ToolchainPaths } from "./paths.js";

/** What `npm run setup` leaves for the pipeline and the tests (`state/toolchain.json`). */
export const ToolchainState = z.object({
  mode: z.enum(["airgap", "online"]),
  updatedAt: z.string(),
  bin: z.string(),
  versions: z.record(z.string(), z.string()),
  registry: z.object({
    /** Anonymous pull mirror (host:port as containers and the engine reach it). */
    mirror: z.string(),
    /** Authenticated registry standing in for GHCR. */
    auth: z.object({ address: z.string(), credentialsFile: z.string() }),
  }),
  daggerEngineImage: z.string(),
});
export type ToolchainState = z.infer<typeof ToolchainState>;

export function writeState(paths: ToolchainPaths, state: ToolchainState): void {
  mkdirSync(dirname(paths.stateFile), { recursive: true });
  writeFileSync(paths.stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

/** Reads `toolchain.json`, or undefined before the first successful setup. */
export function readState(paths: ToolchainPaths): ToolchainState | undefined {
  if (!existsSync(paths.stateFile)) return undefined;
  return ToolchainState.parse(JSON.parse(readFileSync(paths.stateFile, "utf8")));
}
