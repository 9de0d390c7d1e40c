import { existsSync } from "node:fs";
import { join } from "node:path";
import { ToolchainError, ToolchainErrorCode } from "../host/errors.js";
import { forcedMode } from "./mode.js";
import { toolchainPaths } from "./paths.js";
import {
  type EngineRegistries,
  type RegistryAuth,
  readCosignCredentials,
  readEngineRegistries,
  readRegistryAuth,
  readState,
} from "./state.js";
import { versions } from "./versions.js";

export type { EngineRegistries, RegistryAuth };

/**
 * What setup left on this machine, as the pipeline reads it: the one way from the pipeline into
 * the toolchain's state. Everything is read once, when the run starts.
 */
export interface ToolchainRecord {
  /** Air-gapped: `AIRGAP` when set, else the mode setup last ran in. */
  offline: boolean;
  /** The local authenticated registry setup provides, when it does. */
  localRegistry: RegistryAuth | undefined;
  /** The key pair setup made for signing what goes to the local registry. */
  localCosignKey: { file: string; publicKey: string; password: string } | undefined;
  /** The Dagger engine's registry settings: where base images resolve from. */
  engineRegistries: EngineRegistries;
  /** Where passed check results and runs are kept for reuse. */
  resultsDir: string;
  /** The pinned versions of the tools the pipeline runs, for provenance. */
  toolVersions: { dagger: string; trivy: string; cosign: string };
}

/**
 * Reads what setup recorded, with `env` saying where (`MCP_PIPELINE_CACHE`)
 * and whether to override the mode (`AIRGAP`). Throws a BadSetting ToolchainError for a value it
 * cannot use.
 */
export function readToolchainRecord(env: NodeJS.ProcessEnv): ToolchainRecord {
  const paths = toolchainPaths(env);
  let forced: ReturnType<typeof forcedMode>;
  try {
    forced = forcedMode(env);
  } catch (err) {
    throw new ToolchainError(ToolchainErrorCode.BadSetting, (err as Error).message, {
      cause: err,
    });
  }
  const local = readCosignCredentials(paths);
  const state = readState(paths);
  return {
    offline: (forced ?? state?.mode) === "airgap",
    localRegistry: readRegistryAuth(paths),
    localCosignKey:
      local && existsSync(paths.cosignKeyFile) && existsSync(paths.cosignPublicKeyFile)
        ? {
            file: paths.cosignKeyFile,
            publicKey: paths.cosignPublicKeyFile,
            password: local.password,
          }
        : undefined,
    engineRegistries: readEngineRegistries(state?.engineConfig),
    resultsDir: join(paths.root, "results"),
    toolVersions: { dagger: versions.dagger, trivy: versions.trivy, cosign: versions.cosign },
  };
}
