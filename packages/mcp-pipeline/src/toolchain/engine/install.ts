import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ToolchainError, ToolchainErrorCode } from "../../host/errors.js";
import { CommandError, run, succeeds, which } from "../../host/exec.js";
import { aptInstall } from "../apt.js";
import { sha256File } from "../checksums.js";
import type { StepContext } from "../context.js";
import { hostGlibc } from "../debian-archive/elf-glibc.js";
import {
  DEBIAN_ARCHIVE_KEYRING,
  debianArch,
  installPackagesFromDebianArchive,
} from "../debian-archive/install.js";
import { aptDebianMirror, DEFAULT_DEBIAN_MIRROR } from "../debian-archive/mirror.js";
import { installBinary } from "../download.js";
import { goInstall } from "../go.js";
import { engineBinDir } from "../settings.js";
import { recordProvenance } from "../state.js";
import { currentEngine, enginePackages, runcBuild } from "../versions.js";

type EngineContext = Pick<StepContext, "paths" | "settings" | "env" | "logFile" | "note">;

/** Every binary of the current engine, by its name in the engine's bin/. */
export function engineBinaries(): {
  name: string;
  version: string;
  versionArgs: readonly string[];
}[] {
  return [
    ...enginePackages.flatMap((p) =>
      p.binaries.map((b) => ({ name: b.name, version: p.version, versionArgs: b.versionArgs })),
    ),
    { name: runcBuild.name, version: runcBuild.version, versionArgs: runcBuild.versionArgs },
  ];
}

/** True when the binaries of `names` are in the engine's bin/ and say their pinned version. */
async function present(
  ctx: Pick<EngineContext, "paths" | "env">,
  names: readonly string[],
): Promise<boolean> {
  const bin = engineBinDir(ctx.paths);
  for (const b of engineBinaries().filter((x) => names.includes(x.name))) {
    const file = join(bin, b.name);
    if (!existsSync(file)) return false;
    const said = await run(file, b.versionArgs, { env: ctx.env, timeoutMs: 20_000 }).catch(
      () => "",
    );
    if (!said.includes(b.version)) return false;
  }
  return true;
}

const ARCHIVE_NAMES = enginePackages.flatMap((p) => p.binaries.map((b) => b.name));

/** True when every binary of the current engine is installed at its pinned version. */
export function currentEngineInstalled(
  ctx: Pick<EngineContext, "paths" | "env">,
): Promise<boolean> {
  return present(ctx, [...ARCHIVE_NAMES, runcBuild.name]);
}

/** Where the archive's trust and the machine's facts come from, when not the machine's own (tests). */
export interface ArchiveOverrides {
  keyring?: string;
  etcApt?: string;
  /** The glibc binaries must run on; the machine's by default. */
  glibc?: string;
}

const NOT_INSTALLED_HINT = `Install Docker ≥ ${currentEngine.oldestKept} yourself (https://docs.docker.com/engine/install/) and run setup again: it keeps the machine's own engine.`;

/**
 * Docker's daemon, CLI and containerd (and tini as docker-init) from Debian's signed archive,
 * all or none (debian-archive/install.ts checks the whole chain from InRelease down), into the
 * engine's bin/ with their provenance. Anything short of that stops setup with the reason.
 */
export async function installEngineArchivePart(
  ctx: EngineContext,
  options: ArchiveOverrides,
): Promise<void> {
  if (await present(ctx, ARCHIVE_NAMES)) return;
  const what = `Docker ${currentEngine.docker} (containerd ${currentEngine.containerd})`;
  if (ctx.settings.debianMirror === "off")
    throw new ToolchainError(
      ToolchainErrorCode.BadSetting,
      `${what} comes from Debian's archive, and DEBIAN_MIRROR=off forbids it.`,
      { hint: `Unset DEBIAN_MIRROR, or ${NOT_INSTALLED_HINT}` },
    );
  const arch = debianArch();
  if (!arch)
    throw new ToolchainError(
      ToolchainErrorCode.Unsupported,
      `${what}: Debian builds no ${process.arch} packages.`,
      { hint: NOT_INSTALLED_HINT },
    );
  const outcome = await installPackagesFromDebianArchive(enginePackages, currentEngine.suites, {
    mirror: ctx.settings.debianMirror ?? aptDebianMirror(options.etcApt) ?? DEFAULT_DEBIAN_MIRROR,
    keyring: options.keyring ?? DEBIAN_ARCHIVE_KEYRING,
    arch,
    glibc: options.glibc ?? hostGlibc(),
    downloads: ctx.paths.downloads,
    destDir: engineBinDir(ctx.paths),
    env: ctx.env,
    logFile: ctx.logFile,
    note: ctx.note,
  });
  if (!outcome.installed)
    throw new ToolchainError(
      ToolchainErrorCode.Unsupported,
      `${what} was not installed from Debian's archive: ${outcome.reason}. Nothing was installed.`,
      { hint: NOT_INSTALLED_HINT },
    );
  for (const record of outcome.provenance) recordProvenance(ctx.paths, record);
}

/** What runc's cgo build needs from the machine: a C compiler, pkg-config, libseccomp's headers. */
async function runcBuildNeeds(env: NodeJS.ProcessEnv): Promise<string[]> {
  const missing: string[] = [];
  if (!which("gcc", env) && !which("cc", env)) missing.push("gcc");
  if (!which("pkg-config", env)) missing.push("pkg-config");
  else if (!(await succeeds("pkg-config", ["--exists", "libseccomp"], { env })))
    missing.push("libseccomp-dev");
  return missing;
}

/**
 * runc at its pinned version, built with cgo and seccomp by `go install` from the Go module
 * proxy (go.sum and the checksum database checked by `go`): sid's runc needs glibc 2.38.
 * Installs what the build needs from the machine's own distribution when it can (root on
 * Debian); a failed build stops setup with go's last lines, never a stack trace.
 */
export async function installRunc(ctx: EngineContext, canApt: boolean): Promise<void> {
  if (await present(ctx, [runcBuild.name])) return;
  const missing = await runcBuildNeeds(ctx.env);
  if (missing.length && canApt)
    await aptInstall(ctx, missing.includes("gcc") ? [...missing, "libc6-dev"] : missing);
  else if (missing.length)
    throw new ToolchainError(
      ToolchainErrorCode.Unsupported,
      `runc ${runcBuild.version} is built with cgo and seccomp, and this machine lacks ${missing.join(", ")}.`,
      { hint: `Install ${missing.join(", ")} (Debian's package names), then run setup again.` },
    );
  const gobin = join(ctx.paths.goBuild, `runc-v${runcBuild.version}`);
  rmSync(gobin, { recursive: true, force: true });
  try {
    await goInstall({
      pkg: runcBuild.pkg,
      version: runcBuild.version,
      gobin,
      tags: runcBuild.tags,
      ldflags: runcBuild.ldflags,
      cgo: true,
      env: ctx.env,
      logFile: ctx.logFile,
      note: ctx.note,
    });
  } catch (err) {
    const tail = err instanceof CommandError ? err.output : String((err as Error).message ?? err);
    throw new ToolchainError(
      ToolchainErrorCode.CommandFailed,
      `runc ${runcBuild.version} did not build from the Go module proxy${tail ? `:\n${tail}` : "."}`,
      {
        hint: `Full log: ${ctx.logFile}. The build needs GOPROXY to reach a module proxy, and gcc, pkg-config and libseccomp-dev.`,
        cause: err,
      },
    );
  }
  const built = join(gobin, runcBuild.name);
  const said = await run(built, [...runcBuild.versionArgs], { env: ctx.env }).catch(() => "");
  if (!said.includes(`runc version ${runcBuild.version}`) || !/libseccomp: \d/.test(said))
    throw new ToolchainError(
      ToolchainErrorCode.VersionMismatch,
      `The runc built from ${runcBuild.module}@v${runcBuild.version} reports ${JSON.stringify(said.split("\n").slice(0, 4).join("; "))}, not version ${runcBuild.version} with libseccomp.`,
      { hint: `Full log: ${ctx.logFile}.` },
    );
  const dest = join(engineBinDir(ctx.paths), runcBuild.name);
  installBinary(built, dest);
  rmSync(gobin, { recursive: true, force: true });
  recordProvenance(ctx.paths, {
    tool: runcBuild.name,
    source: "go-build",
    asset: `${runcBuild.module}@v${runcBuild.version}`,
    sha256: await sha256File(dest),
    checksumSource: "go.sum and the Go checksum database, checked by `go`",
    at: new Date().toISOString(),
  });
}

/**
 * Installs the current Docker engine into the toolchain cache (`engineBinDir`): Docker
 * `currentEngine.docker`'s dockerd, docker-proxy and CLI, containerd with its shim and ctr,
 * and tini as docker-init from Debian's signed archive; runc built from the Go module proxy.
 * Never through dpkg or apt (apt only brings runc's build needs). Each part is skipped when its
 * binaries already say their pinned versions. iptables, which dockerd needs, comes from the
 * machine's distribution when it is missing.
 */
export async function installCurrentEngine(
  ctx: EngineContext,
  options: ArchiveOverrides & { canApt?: boolean } = {},
): Promise<void> {
  await installEngineArchivePart(ctx, options);
  await installRunc(ctx, options.canApt ?? false);
  await ensureIptables(ctx, options.canApt ?? false);
}

/**
 * dockerd programs its bridge networking and port publishing with iptables (Debian's docker.io
 * depends on it); a minimal machine may lack it. Installed from the machine's own distribution.
 */
async function ensureIptables(ctx: EngineContext, canApt: boolean): Promise<void> {
  // The toolchain's PATH has /usr/sbin and /sbin (toolchainEnv), where iptables lives.
  if (which("iptables", ctx.env)) return;
  if (!canApt)
    throw new ToolchainError(
      ToolchainErrorCode.Unsupported,
      `Docker ${currentEngine.docker} needs iptables, and this machine has none.`,
      { hint: "Install iptables (Debian's package `iptables`), then run setup again." },
    );
  await aptInstall(ctx, ["iptables"]);
}
