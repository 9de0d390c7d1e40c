import { existsSync } from "node:fs";
import { engineBinDir, type ToolchainPaths } from "./settings.js";

/** The system CA bundle on Debian/Ubuntu; where a TLS-inspecting proxy's CA is installed. */
const SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

/**
 * The environment every toolchain command runs with: the toolchain's binaries
 * first on PATH (and the installed current engine's last), Go where the official tarball puts it, and Dagger quiet and
 * offline-safe (no update check, no telemetry, no cloud nag, and the SDK uses
 * our CLI instead of downloading one). `NPM_CA_FILE` — the CA bundle image
 * builds hand to npm as a BuildKit secret — defaults to the system bundle.
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
  // The engine setup installed into the cache brings a Docker CLI; last, so a
  // machine's own docker, containerd and runc still come first.
  const engineBin = engineBinDir(paths);
  if (existsSync(engineBin)) path.push(engineBin);
  return {
    ...base,
    PATH: [...new Set(path.join(":").split(":"))].filter(Boolean).join(":"),
    DAGGER_NO_UPDATE_CHECK: "1",
    DAGGER_NO_NAG: "1",
    DO_NOT_TRACK: "1",
    _EXPERIMENTAL_DAGGER_CLI_BIN: `${paths.bin}/dagger`,
    ...(base.NPM_CA_FILE || !existsSync(SYSTEM_CA_BUNDLE) ? {} : { NPM_CA_FILE: SYSTEM_CA_BUNDLE }),
  };
}
