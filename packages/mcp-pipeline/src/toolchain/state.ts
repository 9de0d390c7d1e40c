import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import writeFileAtomic from "write-file-atomic";
import { z } from "zod";
import { ToolchainError, ToolchainErrorCode } from "../host/errors.js";
import { forcedMode, type ToolchainPaths, toolchainPaths } from "./settings.js";
import { versions } from "./versions.js";

/** Where a tool in bin/ came from, and what was checked before it was installed. */
export const Provenance = z.object({
  tool: z.string(),
  /**
   * `release`: the official download; `go-build`: built from the Go module proxy; `bundle`: from
   * an offline bundle; `debian-archive`: the binary of a Debian package at the pinned version.
   */
  source: z.enum(["release", "go-build", "bundle", "debian-archive"]),
  /** The file that was checked: the release asset, or the bundle entry. */
  asset: z.string().optional(),
  /** Where it was fetched from (after DOWNLOAD_MIRROR). */
  url: z.string().optional(),
  /** sha256 of what was checked (the asset), or of the installed binary for builds. */
  sha256: z.string(),
  /** Where the expected sha256 came from: a checksums file URL or a bundle manifest. */
  checksumSource: z.string().optional(),
  /** Whether the project's signature over the checksums was verified, and against whom. */
  signature: z
    .object({
      verified: z.boolean(),
      by: z.string().optional(),
      reason: z.string().optional(),
    })
    .optional(),
  /** For `debian-archive`: which package of which suite, and what its signed index said. */
  archive: z
    .object({
      suite: z.string(),
      codename: z.string().optional(),
      package: z.string(),
      /** Debian's version, e.g. `2.40.3-3`; its upstream part is the pin. */
      version: z.string(),
      /** The InRelease's `Date` and `Valid-Until`. */
      indexDate: z.string().optional(),
      validUntil: z.string().optional(),
      /** sha256 of the binary installed into bin/ (`sha256` is the .deb's). */
      binarySha256: z.string(),
      /** The highest glibc symbol version the binary needs. */
      glibcNeeded: z.string().optional(),
    })
    .optional(),
  at: z.string(),
});
export type Provenance = z.infer<typeof Provenance>;

/** A local registry setup runs: its port on the host and its address from containers. */
export const RegistryEndpoint = z.object({
  port: z.number().int(),
  /** host:port as containers, the Docker daemon and the Dagger engine reach it. */
  address: z.string(),
});
export type RegistryEndpoint = z.infer<typeof RegistryEndpoint>;

/** The local registries in use; absent ones are not needed in this mode. */
export const RegistriesState = z.object({
  mirror: RegistryEndpoint.optional(),
  auth: RegistryEndpoint.optional(),
});
export type RegistriesState = z.infer<typeof RegistriesState>;

/** What `mcp-pipeline setup` leaves for the pipeline and the tests (`state/toolchain.json`). */
export const ToolchainState = z.object({
  mode: z.enum(["airgap", "online"]),
  updatedAt: z.string(),
  bin: z.string(),
  versions: z.record(z.string(), z.string()),
  registry: z.object({
    /** Anonymous pull mirror (host:port as containers and the engine reach it); null when not in use. */
    mirror: z.string().nullable(),
    /** Authenticated registry standing in for GHCR; null when not in use. */
    auth: z.object({ address: z.string(), credentialsFile: z.string() }).nullable(),
  }),
  daggerEngineImage: z.string(),
  /** The engine config setup merged its registries into, when it wrote one. */
  engineConfig: z.string().nullable().default(null),
  /** Where each tool came from and how it was verified. */
  provenance: z.array(Provenance).default([]),
});
export type ToolchainState = z.infer<typeof ToolchainState>;

function writeJson(file: string, value: unknown, mode?: number): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomic.sync(file, `${JSON.stringify(value, null, 2)}\n`, mode ? { mode } : {});
}

function readJson<T>(file: string, schema: z.ZodType<T>): T | undefined {
  if (!existsSync(file)) return undefined;
  return schema.parse(JSON.parse(readFileSync(file, "utf8")));
}

export function writeState(paths: ToolchainPaths, state: ToolchainState): void {
  writeJson(paths.stateFile, state);
}

/** Reads `toolchain.json`, or undefined before the first successful setup. */
export function readState(paths: ToolchainPaths): ToolchainState | undefined {
  return readJson(paths.stateFile, ToolchainState);
}

const provenanceFile = (paths: ToolchainPaths) => join(paths.state, "provenance.json");
const ProvenanceFile = z.record(z.string(), Provenance);

/** Every tool's provenance record, by tool name. */
export function readProvenance(paths: ToolchainPaths): Record<string, Provenance> {
  return readJson(provenanceFile(paths), ProvenanceFile) ?? {};
}

/** Records how a tool got into bin/, replacing an older record of the same tool. */
export function recordProvenance(paths: ToolchainPaths, record: Provenance): void {
  writeJson(provenanceFile(paths), { ...readProvenance(paths), [record.tool]: record });
}

const registriesFile = (paths: ToolchainPaths) => join(paths.state, "registries.json");

/** The local registries setup last brought up (ports can move when the defaults are taken). */
export function readRegistries(paths: ToolchainPaths): RegistriesState {
  return readJson(registriesFile(paths), RegistriesState) ?? {};
}

export function writeRegistries(paths: ToolchainPaths, value: RegistriesState): void {
  writeJson(registriesFile(paths), value);
}

const packagesFile = (paths: ToolchainPaths) => join(paths.state, "installed-packages.json");

/** Debian packages this toolchain installed (so it may stop services they started). */
export function readInstalledPackages(paths: ToolchainPaths): string[] {
  return readJson(packagesFile(paths), z.array(z.string())) ?? [];
}

export function recordInstalledPackages(paths: ToolchainPaths, packages: string[]): void {
  writeJson(packagesFile(paths), [...new Set([...readInstalledPackages(paths), ...packages])]);
}

export function forgetInstalledPackages(paths: ToolchainPaths, packages: string[]): void {
  writeJson(
    packagesFile(paths),
    readInstalledPackages(paths).filter((p) => !packages.includes(p)),
  );
}

/** Credentials of the authenticated registry, as written to `registry-auth.json`. */
export const RegistryAuth = z.object({
  address: z.string(),
  username: z.string(),
  password: z.string(),
});
export type RegistryAuth = z.infer<typeof RegistryAuth>;

/** Reads the authenticated registry's credentials, or undefined before setup wrote them. */
export function readRegistryAuth(paths: ToolchainPaths): RegistryAuth | undefined {
  return readJson(paths.registryAuthFile, RegistryAuth);
}

/** The local signing key's password, as written to `cosign-credentials.json`. */
export const CosignCredentials = z.object({
  password: z.string().min(16),
});
export type CosignCredentials = z.infer<typeof CosignCredentials>;

/** Reads the local signing key's password, or undefined before setup wrote it. */
export function readCosignCredentials(paths: ToolchainPaths): CosignCredentials | undefined {
  return readJson(paths.cosignCredentialsFile, CosignCredentials);
}

/** The engine's registry settings (its engine.json `registries`): mirrors, and plain HTTP. */
export type EngineRegistries = Readonly<
  Record<string, { mirrors?: readonly string[] | undefined; http?: boolean | undefined }>
>;

/**
 * The `registries` of the engine.json setup wrote for the engine it configured; none when it wrote
 * none (a shared engine, no local registries) or the file does not parse.
 */
export function readEngineRegistries(file: string | null | undefined): EngineRegistries {
  if (!file) return {};
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as { registries?: EngineRegistries };
    return parsed.registries ?? {};
  } catch {
    return {};
  }
}

export { writeJson as writeJsonFile };

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
