import type { ToolchainPaths } from "./paths.js";

/**
 * The environment every toolchain command runs with: the toolchain's binaries
 * first on PATH, Go where the official tarball puts it, and Dagger quiet and
 * offline-safe (no update check, no telemetry, no cloud nag, and the SDK uses
 * our CLI instead of downloading one).
 */
export function toolchainEnv(
  paths: ToolchainPaths,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const path = [
    paths.bin,
    base.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    "/usr/local/go/bin",
    "/usr/sbin",
    "/sbin",
  ];
  return {
    ...base,
    PATH: [...new Set(path.join(":").split(":"))].filter(Boolean).join(":"),
    DAGGER_NO_UPDATE_CHECK: "1",
    DAGGER_NO_NAG: "1",
    DO_NOT_TRACK: "1",
    _EXPERIMENTAL_DAGGER_CLI_BIN: `${paths.bin}/dagger`,
  };
}
