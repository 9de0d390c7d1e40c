import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ToolchainError, ToolchainErrorCode } from "../host/errors.js";
import { forcedMode } from "./mode.js";
import { toolchainPaths } from "./paths.js";
import { loadSettings } from "./settings.js";
import { readState } from "./state.js";
import { readCosignCredentials } from "./steps/cosign-key.js";
import { engineConfigFile } from "./steps/engine-config.js";
import { type RegistryAuth, readRegistryAuth } from "./steps/registry.js";

export type { RegistryAuth };

import { versions } from "./versions.js";

/** The engine's registry settings (its engine.json `registries`): mirrors, and plain HTTP. */
export type EngineRegistries = Readonly<
  Record<string, { mirrors?: readonly string[] | undefined; http?: boolean | undefined }>
>;

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

/** The `registries` of an engine.json; none when there is no file or it does not parse. */
function readEngineRegistries(file: string): EngineRegistries {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as { registries?: EngineRegistries };
    return parsed.registries ?? {};
  } catch {
    return {};
  }
}

/**
 * Reads what setup recorded, with `env` saying where (`MCP_PIPELINE_CACHE`, `XDG_CONFIG_HOME`)
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
  return {
    offline: (forced ?? readState(paths)?.mode) === "airgap",
    localRegistry: readRegistryAuth(paths),
    localCosignKey:
      local && existsSync(paths.cosignKeyFile) && existsSync(paths.cosignPublicKeyFile)
        ? {
            file: paths.cosignKeyFile,
            publicKey: paths.cosignPublicKeyFile,
            password: local.password,
          }
        : undefined,
    engineRegistries: readEngineRegistries(engineConfigFile({ settings: loadSettings(env) })),
    resultsDir: join(paths.root, "results"),
    toolVersions: { dagger: versions.dagger, trivy: versions.trivy, cosign: versions.cosign },
  };
}
