import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { ToolchainError, ToolchainErrorCode } from "../host/errors.js";
import { currentEngine } from "./versions.js";

const Port = z.coerce
  .number({ error: "expected a TCP port number" })
  .int({ error: "expected a whole port number" })
  .min(1024, { error: "expected a port from 1024 to 65535" })
  .max(65535, { error: "expected a port from 1024 to 65535" });

const HttpUrl = z
  .url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" })
  .transform((u) => u.replace(/\/+$/, ""));

// Everything the toolchain takes from the environment: where it lives, the mode `AIRGAP` forces,
// and the validated settings (mirrors, ports, the engine to use).

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

/** Where the current engine's binaries go: `<cache>/engine/<docker version>/bin`. */
export function engineBinDir(paths: Pick<ToolchainPaths, "engine">): string {
  return join(paths.engine, currentEngine.docker, "bin");
}

export type Mode = "airgap" | "online";

/**
 * The mode `AIRGAP` forces: `1`/`true` air-gapped, `0`/`false` online, unset
 * undefined. Anything else throws, naming the variable.
 */
export function forcedMode(env: Readonly<Record<string, string | undefined>>): Mode | undefined {
  const forced = env.AIRGAP?.trim();
  if (forced === undefined || forced === "") return undefined;
  if (forced === "1" || forced === "true") return "airgap";
  if (forced === "0" || forced === "false") return "online";
  throw new Error(
    `AIRGAP must be 1 or 0 (got ${JSON.stringify(forced)}); unset it to detect automatically`,
  );
}

/** Environment variables the toolchain reads, each with the field it fills. */
const VARIABLES = {
  downloadMirror: "DOWNLOAD_MIRROR",
  mirrorCosignKey: "DOWNLOAD_MIRROR_COSIGN_KEY",
  mirrorPort: "MCP_PIPELINE_MIRROR_PORT",
  authPort: "MCP_PIPELINE_AUTH_PORT",
  runnerHost: "_EXPERIMENTAL_DAGGER_RUNNER_HOST",
  debianMirror: "DEBIAN_MIRROR",
  imageStore: "MCP_PIPELINE_IMAGE_STORE",
} as const;

const Raw = z.object({
  downloadMirror: HttpUrl.optional(),
  mirrorCosignKey: z.string().min(1).optional(),
  mirrorPort: Port.optional(),
  authPort: Port.optional(),
  /** Air-gapped: the Debian mirror to take packaged tools from, or `off` to build them all. */
  debianMirror: z
    .union([z.literal("off"), HttpUrl], {
      error: "expected an http:// or https:// URL of a Debian mirror, or off",
    })
    .optional(),
  /**
   * The image store of the engine setup starts: Docker's classic store (Docker 28's default) or
   * the containerd image store (Docker 29's default for new installs). Unset: the engine's own.
   */
  imageStore: z
    .enum(["classic", "containerd"], { error: "expected classic or containerd" })
    .optional(),
  runnerHost: z
    .string()
    .regex(/^[a-z][a-z0-9+.-]*:\/\/.+/, {
      error:
        "expected a runner URL such as docker-container://NAME, tcp://HOST:PORT or kube-pod://POD",
    })
    .optional(),
});

/** Settings of the toolchain that come from the environment, parsed once at the edge. */
export interface ToolchainSettings extends z.infer<typeof Raw> {
  /** Where the Dagger CLI looks for `dagger/engine.json` (XDG_CONFIG_HOME, else ~/.config). */
  configHome: string;
  /** Where the Docker CLI looks for plugins and config (DOCKER_CONFIG, else ~/.docker). */
  dockerConfig: string;
}

/**
 * Reads the toolchain's environment variables. A bad value stops with one
 * message that names the variable and what was expected.
 */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): ToolchainSettings {
  const input = Object.fromEntries(
    Object.entries(VARIABLES).map(([field, name]) => [field, env[name]?.trim() || undefined]),
  );
  const parsed = Raw.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue?.path[0] ?? "");
    const name = VARIABLES[field as keyof typeof VARIABLES] ?? field;
    throw new ToolchainError(
      ToolchainErrorCode.BadSetting,
      `${name}=${JSON.stringify(env[name])}: ${issue?.message ?? "invalid"}.`,
      { hint: `Fix or unset ${name}.`, cause: parsed.error },
    );
  }
  if (parsed.data.mirrorCosignKey && !parsed.data.downloadMirror) {
    throw new ToolchainError(
      ToolchainErrorCode.BadSetting,
      "DOWNLOAD_MIRROR_COSIGN_KEY is set but DOWNLOAD_MIRROR is not.",
      {
        hint: "The key replaces the upstream signing identity only for a mirror that re-signs what it serves; set DOWNLOAD_MIRROR too, or unset the key.",
      },
    );
  }
  return {
    ...parsed.data,
    configHome: env.XDG_CONFIG_HOME || join(homedir(), ".config"),
    dockerConfig: env.DOCKER_CONFIG || join(homedir(), ".docker"),
  };
}

/**
 * True when the Dagger CLI connects to an engine someone else runs
 * (`docker-container://`, `tcp://`, `kube-pod://`, …) rather than starting one
 * from an image (`docker-image://`, or the default).
 */
export function usesSharedEngine(settings: Pick<ToolchainSettings, "runnerHost">): boolean {
  return settings.runnerHost !== undefined && !/^(docker-)?image:\/\//.test(settings.runnerHost);
}
