import { homedir } from "node:os";
import { join } from "node:path";

/** Where the toolchain lives: outside the repo, so every clone on a machine shares it. */
export interface ToolchainPaths {
  root: string;
  bin: string;
  logs: string;
  goBuild: string;
  rootfs: string;
  downloads: string;
  registry: string;
  /** Engines setup installed (`engine/<docker version>/bin`), beside, never over, the machine's. */
  engine: string;
  state: string;
  /** `toolchain.json`: what setup produced, read by the pipeline and the tests. */
  stateFile: string;
  /** Credentials of the authenticated registry (mode 0600). */
  registryAuthFile: string;
  /** The local signing key pair's encrypted private key (mode 0600), from `cosign generate-key-pair`. */
  cosignKeyFile: string;
  /** Its public key: what `cosign verify --key` takes. */
  cosignPublicKeyFile: string;
  /** The password of `cosignKeyFile` (mode 0600). */
  cosignCredentialsFile: string;
}

/**
 * Resolves the cache layout. `MCP_PIPELINE_CACHE` moves it; otherwise it sits
 * under `$XDG_CACHE_HOME` (or `~/.cache`). `MCP_PIPELINE_BIN` moves only the binaries.
 */
export function toolchainPaths(env: NodeJS.ProcessEnv = process.env): ToolchainPaths {
  const root =
    env.MCP_PIPELINE_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "mcp-pipeline");
  return {
    root,
    // MCP_PIPELINE_BIN points the tools elsewhere (doctor's tests use it to hide one).
    bin: env.MCP_PIPELINE_BIN ?? join(root, "bin"),
    logs: join(root, "logs"),
    goBuild: join(root, "go-build"),
    rootfs: join(root, "rootfs"),
    downloads: join(root, "downloads"),
    registry: join(root, "registry"),
    engine: join(root, "engine"),
    state: join(root, "state"),
    stateFile: join(root, "state", "toolchain.json"),
    registryAuthFile: join(root, "state", "registry-auth.json"),
    cosignKeyFile: join(root, "state", "cosign.key"),
    cosignPublicKeyFile: join(root, "state", "cosign.pub"),
    cosignCredentialsFile: join(root, "state", "cosign-credentials.json"),
  };
}
