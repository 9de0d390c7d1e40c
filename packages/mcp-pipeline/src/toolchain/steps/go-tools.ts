import { existsSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { ToolchainError } from "../../host/errors.js";
import { run } from "../../host/exec.js";
import { sha256File } from "../checksums.js";
import type { Step, StepContext } from "../context.js";
import { hostGlibc } from "../debian-archive/elf-glibc.js";
import {
  type ArchiveOutcome,
  DEBIAN_ARCHIVE_KEYRING,
  debianArch,
  installFromDebianArchive,
} from "../debian-archive/install.js";
import { aptDebianMirror, DEFAULT_DEBIAN_MIRROR } from "../debian-archive/mirror.js";
import { downloadVerified, extractMember, installBinary, scratchDir } from "../download.js";
import { buildWithWrapper } from "../go.js";
import { type ReleaseAsset, releaseAsset } from "../releases.js";
import { recordProvenance } from "../state.js";
import { goTools } from "../versions.js";

type GoTool = (typeof goTools)[number];

/** The installed version line of a tool, or undefined when it is missing or broken. */
export async function toolVersion(
  ctx: Pick<StepContext, "paths" | "env">,
  tool: GoTool,
): Promise<string | undefined> {
  const bin = join(ctx.paths.bin, tool.name);
  if (!existsSync(bin)) return undefined;
  try {
    return await run(bin, tool.versionArgs, { env: ctx.env, timeoutMs: 20_000 });
  } catch {
    return undefined;
  }
}

/**
 * Links compose and buildx where the Docker CLI looks for plugins
 * (`$DOCKER_CONFIG/cli-plugins`, default `~/.docker/cli-plugins`), without
 * replacing someone else's.
 */
export function linkCliPlugin(ctx: Pick<StepContext, "paths" | "settings">, name: string): string {
  const dir = join(ctx.settings.dockerConfig, "cli-plugins");
  mkdirSync(dir, { recursive: true });
  const link = join(dir, name);
  const target = join(ctx.paths.bin, name);
  let current: string | undefined;
  try {
    current = lstatSync(link).isSymbolicLink() ? readlinkSync(link) : "(a file)";
  } catch {
    current = undefined;
  }
  if (current === target) return link;
  // Ours from an earlier cache, or a link to something that no longer exists: replace it.
  const dangling = current !== undefined && current !== "(a file)" && !existsSync(link);
  if (current === undefined || dangling || current.startsWith(ctx.paths.root)) {
    rmSync(link, { force: true });
    symlinkSync(target, link);
  }
  return link;
}

function goToolStep(tool: GoTool): Step {
  return {
    id: tool.name,
    title: `${tool.name} ${tool.version}`,
    async isDone(ctx) {
      const version = await toolVersion(ctx, tool);
      const ok = version?.includes(tool.version) ?? false;
      if (ok && tool.name.startsWith("docker-")) linkCliPlugin(ctx, tool.name);
      return ok;
    },
    async run(ctx) {
      const dest = join(ctx.paths.bin, tool.name);
      if (ctx.mode === "online") {
        await installRelease(ctx, releaseAsset(tool.name));
      } else {
        const archive = await tryDebianArchive(ctx, tool);
        if (archive.installed) {
          recordProvenance(ctx.paths, archive.provenance);
          if (tool.name.startsWith("docker-")) linkCliPlugin(ctx, tool.name);
          return;
        }
        if ("debian" in tool) ctx.warn(`${archive.reason}; building from the Go module proxy`);
        const dir = join(ctx.paths.goBuild, `${tool.name}-v${tool.version}`);
        await buildWithWrapper({
          module: tool.module,
          version: tool.version,
          binaries: [{ pkg: tool.pkg, name: tool.name }],
          dir,
          ldflags: "ldflags" in tool ? tool.ldflags : "",
          env: { ...ctx.env, ...("goEnv" in tool ? tool.goEnv : {}) },
          logFile: ctx.logFile,
          note: ctx.note,
        });
        installBinary(join(dir, "out", tool.name), dest);
        await recordBuild(ctx, tool.name, tool.module, tool.version);
      }
      if (tool.name.startsWith("docker-")) linkCliPlugin(ctx, tool.name);
    },
  };
}

/**
 * Air-gapped, a tool Debian packages at its pinned version comes from Debian's signed archive
 * (debian-archive/install.ts) instead of a Go build. Anything short of a verified, runnable
 * binary — not there, cannot run here, or a check that failed — is `installed: false` with the
 * reason, and the caller builds the tool from the Go module proxy, whose own checks (go.sum and
 * the checksum database) do not depend on the mirror that failed. Nothing unverified is installed.
 */
export async function tryDebianArchive(
  ctx: Pick<StepContext, "paths" | "settings" | "env" | "logFile" | "note">,
  tool: GoTool,
  options: { keyring?: string; etcApt?: string } = {},
): Promise<ArchiveOutcome> {
  if (!("debian" in tool)) return { installed: false, reason: "Debian does not package it" };
  if (ctx.settings.debianMirror === "off") return { installed: false, reason: "DEBIAN_MIRROR=off" };
  const arch = debianArch();
  if (!arch) return { installed: false, reason: `Debian has no ${process.arch} build` };
  try {
    return await installFromDebianArchive(
      { tool: tool.name, version: tool.version, versionArgs: tool.versionArgs, ...tool.debian },
      {
        mirror:
          ctx.settings.debianMirror ?? aptDebianMirror(options.etcApt) ?? DEFAULT_DEBIAN_MIRROR,
        keyring: options.keyring ?? DEBIAN_ARCHIVE_KEYRING,
        arch,
        glibc: hostGlibc(),
        downloads: ctx.paths.downloads,
        dest: join(ctx.paths.bin, tool.name),
        env: ctx.env,
        logFile: ctx.logFile,
        note: ctx.note,
      },
    );
  } catch (err) {
    // A failed check, or the mirror failing mid-way: say which, never with a stack trace.
    const message =
      err instanceof ToolchainError ? err.message : String((err as Error).message ?? err);
    return { installed: false, reason: `Debian's archive was not used: ${message}` };
  }
}

/** Records a tool built from the Go module proxy: the module checksums were checked by `go`. */
export async function recordBuild(
  ctx: Pick<StepContext, "paths">,
  tool: string,
  module: string,
  version: string,
  checksumSource = "go.sum and the Go checksum database, checked by `go`",
): Promise<void> {
  recordProvenance(ctx.paths, {
    tool,
    source: "go-build",
    asset: `${module}@v${version}`,
    sha256: await sha256File(join(ctx.paths.bin, tool)),
    checksumSource,
    at: new Date().toISOString(),
  });
}

/**
 * Downloads a tool's official release, verifies it against its project's
 * checksums (and signature), and only then puts the binary into bin/.
 */
export async function installRelease(ctx: StepContext, release: ReleaseAsset): Promise<void> {
  const scratch = scratchDir(ctx.paths.downloads);
  try {
    const cosign = join(ctx.paths.bin, "cosign");
    const { file, provenance } = await downloadVerified(release, {
      mirror: ctx.settings.downloadMirror,
      mirrorCosignKey: ctx.settings.mirrorCosignKey,
      cosign: release.tool !== "cosign" && existsSync(cosign) ? cosign : undefined,
      scratch,
      env: ctx.env,
      logFile: ctx.logFile,
      note: ctx.note,
    });
    const binary = release.member
      ? await extractMember(file, release.member, scratch, ctx.env)
      : file;
    installBinary(binary, join(ctx.paths.bin, release.tool));
    recordProvenance(ctx.paths, provenance);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** cosign, actionlint, Compose v2, Buildx and Trivy at their pinned versions (cosign first: it checks Trivy's signature). */
export const goToolSteps: Step[] = goTools.map(goToolStep);
