import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { ToolchainError, ToolchainErrorCode } from "../../host/errors.js";
import { run, succeeds } from "../../host/exec.js";
import { parseImageRef } from "../../host/image-ref.js";
import { ARCHES, type Arch, allArches, hostArch } from "../../host/platforms.js";
import { manifestKind } from "../../host/registry-api.js";
import { ASSETS_DIR } from "../../package-root.js";
import { aptInstall } from "../apt.js";
import type { Step, StepContext } from "../context.js";
import { nodePin } from "../node-pin.js";
import { readRegistries } from "../state.js";
import { baseImages, versions } from "../versions.js";

const IMAGES_DIR = join(ASSETS_DIR, "images");
/** The mirror on loopback: pushing there needs no `insecure-registries` entry in the daemon. */
export function mirrorPushHost(ctx: Pick<StepContext, "paths">): string {
  const mirror = readRegistries(ctx.paths).mirror;
  if (!mirror) {
    throw new ToolchainError(
      ToolchainErrorCode.NotReady,
      "No local mirror is recorded in the toolchain state.",
      {
        hint: "Run `mcp-pipeline setup` (air-gapped it starts the mirror before the base images).",
      },
    );
  }
  return `127.0.0.1:${mirror.port}`;
}

// What Debian's official slim images leave out, so our rootfs matches their size.
const DPKG_EXCLUDES = `path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
`;

const SOURCES = (suite: string) => `deb http://deb.debian.org/debian ${suite} main
deb http://deb.debian.org/debian ${suite}-updates main
deb http://deb.debian.org/debian-security ${suite}-security main
`;

type BaseImage = keyof typeof baseImages;
/** debian first: the node image is built on it. */
const IMAGE_ORDER: readonly BaseImage[] = ["debian", "node"];

/**
 * Where one platform's image waits in the mirror until the index joins them:
 * `127.0.0.1:5000/library/node:24-bookworm-slim-linux-arm64`. For a foreign
 * platform this is also its name in the local Docker engine, which (without
 * the containerd image store) holds one platform per name; the upstream name
 * locally stays the host's platform, for plain `docker build`.
 */
export function platformRef(ref: string, arch: Arch, host: string): string {
  const { path, tag = "latest" } = parseImageRef(ref);
  return `${host}/${path}:${tag}-${ARCHES[arch].platform.replace("/", "-")}`;
}

/** The mirror reference of an upstream name: `127.0.0.1:5000/library/node:24-bookworm-slim`. */
function mirrorRef(ref: string, host: string): string {
  const { path, tag = "latest" } = parseImageRef(ref);
  return `${host}/${path}:${tag}`;
}

async function imageExists(ctx: StepContext, ref: string): Promise<boolean> {
  return succeeds("docker", ["image", "inspect", "--format", "{{.Id}}", ref], { env: ctx.env });
}

async function inMirror(ref: string, mirror: string): Promise<boolean> {
  const { registry, path, tag = "latest" } = parseImageRef(ref);
  const host = registry === "docker.io" ? mirror : registry;
  return (await manifestKind(host, path, tag)).kind !== "absent";
}

/** The platforms of the mirror's index under `ref`'s upstream name; [] when it is not an index. */
export async function mirrorPlatforms(ref: string, host: string): Promise<string[]> {
  const { path, tag = "latest" } = parseImageRef(ref);
  const found = await manifestKind(host, path, tag).catch(() => ({ kind: "absent" }) as const);
  return found.kind === "index" ? found.entries.map((e) => e.platform).sort() : [];
}

function rootfsTarball(ctx: StepContext, arch: Arch): string {
  // The host's keeps the name it had before there were two, so existing caches stay valid.
  const suffix = arch === hostArch() ? "" : `-${arch}`;
  return join(ctx.paths.rootfs, `debian-${versions.debianSuite}-slim${suffix}.tar`);
}

/**
 * debootstrap's minbase for `arch`, trimmed like the official slim image. A
 * foreign architecture is bootstrapped in two stages: `--foreign` unpacks the
 * packages on the host, then the second stage configures them inside the
 * chroot, its binaries running under QEMU (the emulation step).
 */
async function debianRootfs(ctx: StepContext, arch: Arch): Promise<string> {
  const tarball = rootfsTarball(ctx, arch);
  if (existsSync(tarball)) return tarball;
  if (!existsSync("/usr/sbin/debootstrap")) await aptInstall(ctx, ["debootstrap"]);
  mkdirSync(ctx.paths.rootfs, { recursive: true });
  const dir = mkdtempSync(join(ctx.paths.rootfs, "build-"));
  const foreign = arch !== hostArch();
  try {
    ctx.note(
      `debootstrap --variant=minbase --arch=${arch}${foreign ? " --foreign" : ""} (about a minute)`,
    );
    await run(
      "debootstrap",
      [
        "--variant=minbase",
        `--arch=${arch}`,
        ...(foreign ? ["--foreign"] : []),
        versions.debianSuite,
        dir,
        "http://deb.debian.org/debian",
      ],
      { env: ctx.env, logFile: ctx.logFile },
    );
    if (foreign) {
      ctx.note(`debootstrap --second-stage under emulation (${arch}, a few minutes)`);
      await run("chroot", [dir, "/debootstrap/debootstrap", "--second-stage"], {
        env: { ...ctx.env, LANG: "C.UTF-8" },
        logFile: ctx.logFile,
      });
    }
    writeFileSync(join(dir, "etc/dpkg/dpkg.cfg.d/slim-excludes"), DPKG_EXCLUDES);
    writeFileSync(join(dir, "etc/apt/sources.list"), SOURCES(versions.debianSuite));
    await run(
      "sh",
      [
        "-c",
        `cd "$1" && rm -rf var/cache/apt/archives/*.deb var/lib/apt/lists/* usr/share/doc/* usr/share/man/* usr/share/info/* && find usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +`,
        "slim",
        dir,
      ],
      { env: ctx.env },
    );
    // Device nodes stay out: the container runtime provides /dev, as in the official image.
    await run(
      "tar",
      ["--numeric-owner", "--exclude=./dev/*", "-C", dir, "-cf", `${tarball}.tmp`, "."],
      { env: ctx.env },
    );
    await run("mv", [`${tarball}.tmp`, tarball], { env: ctx.env });
    return tarball;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `debian:bookworm-slim` for `arch` from its rootfs tarball. A one-step
 * BuildKit build (`FROM scratch`, `ADD`) rather than `docker import`, because
 * Docker 20.10 ignores `import --platform` and would label an arm64 root amd64.
 */
async function debianSlim(ctx: StepContext, arch: Arch, tag: string): Promise<void> {
  const tarball = await debianRootfs(ctx, arch);
  const context = mkdtempSync(join(ctx.paths.root, "ctx-rootfs-"));
  try {
    copyFileSync(tarball, join(context, "rootfs.tar"));
    ctx.note(`build ${tag}`);
    await dockerBuild(ctx, "rootfs.Dockerfile", context, tag, {}, ARCHES[arch].platform);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/** sha512 integrity of a file, as npm and mcp-pipeline's assets/node.json write it. */
function integrityOf(file: string): string {
  return `sha512-${createHash("sha512").update(readFileSync(file)).digest("base64")}`;
}

/**
 * The official Node.js binary for `arch` (`node-linux-<arch>` on npm), checked
 * against the sha512 pinned in mcp-pipeline's assets/node.json; a mismatch is deleted and
 * fails the step.
 */
export async function nodeTarball(ctx: StepContext, arch: Arch): Promise<string> {
  const platform = `linux-${ARCHES[arch].node}`;
  const pinned: string | undefined = nodePin.integrity[platform];
  if (!pinned) {
    throw new ToolchainError(
      ToolchainErrorCode.Unsupported,
      `mcp-pipeline's assets/node.json pins no checksum for node-${platform}.`,
      {
        hint: `Add integrity["${platform}"] (npm view node-${platform}@${versions.node} dist.integrity).`,
      },
    );
  }
  const file = join(ctx.paths.downloads, `node-${platform}-${versions.node}.tgz`);
  if (!existsSync(file)) {
    ctx.note(`npm pack node-${platform}@${versions.node}`);
    await run("npm", ["pack", "--silent", `node-${platform}@${versions.node}`], {
      cwd: ctx.paths.downloads,
      env: ctx.env,
      logFile: ctx.logFile,
    });
  }
  const actual = integrityOf(file);
  if (actual !== pinned) {
    rmSync(file, { force: true });
    throw new ToolchainError(
      ToolchainErrorCode.ChecksumMismatch,
      `node-${platform}@${versions.node} does not match mcp-pipeline's assets/node.json: expected ${pinned}, got ${actual}. The download was deleted.`,
      { hint: "A proxy or mirror altered it; fetch it from a trusted npm registry." },
    );
  }
  return file;
}

/** `node:24-bookworm-slim` for `arch`: the official Node.js binary and npm on our Debian slim. */
async function nodeSlim(ctx: StepContext, arch: Arch, tag: string, debian: string): Promise<void> {
  mkdirSync(ctx.paths.downloads, { recursive: true });
  const nodeTgz = await nodeTarball(ctx, arch);
  const npmTgz = join(ctx.paths.downloads, `npm-${versions.npm}.tgz`);
  if (!existsSync(npmTgz)) {
    ctx.note(`npm pack npm@${versions.npm}`);
    await run("npm", ["pack", "--silent", `npm@${versions.npm}`], {
      cwd: ctx.paths.downloads,
      env: ctx.env,
      logFile: ctx.logFile,
    });
  }
  const context = mkdtempSync(join(ctx.paths.root, "ctx-node-"));
  try {
    copyFileSync(nodeTgz, join(context, "node.tgz"));
    copyFileSync(npmTgz, join(context, "npm.tgz"));
    ctx.note(`build ${tag}${arch === hostArch() ? "" : " (its RUN under emulation)"}`);
    await dockerBuild(
      ctx,
      "node.Dockerfile",
      context,
      tag,
      { NODE_VERSION: versions.node, NPM_VERSION: versions.npm, DEBIAN_IMAGE: debian },
      ARCHES[arch].platform,
    );
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/** Builds `images/<file>` with BuildKit (Debian's 20.10 client talks to the daemon's BuildKit). */
export async function dockerBuild(
  ctx: StepContext,
  dockerfile: string,
  context: string,
  tag: string,
  buildArgs: Record<string, string>,
  platform?: string,
): Promise<void> {
  const args = ["build", "--progress=plain", "-f", join(IMAGES_DIR, dockerfile), "-t", tag];
  if (platform) args.push("--platform", platform);
  for (const [k, v] of Object.entries(buildArgs)) args.push("--build-arg", `${k}=${v}`);
  args.push(context);
  await run("docker", args, { env: { ...ctx.env, DOCKER_BUILDKIT: "1" }, logFile: ctx.logFile });
}

/**
 * One platform's image of a base image, in the mirror under its per-platform
 * tag. The host's platform is built under the upstream name (kept in the local
 * engine for plain `docker build`); a foreign one under the per-platform name.
 */
async function pushPlatform(ctx: StepContext, image: BaseImage, arch: Arch): Promise<void> {
  const upstream = baseImages[image];
  const host = mirrorPushHost(ctx);
  const target = platformRef(upstream, arch, host);
  const kept = keptRef(upstream, arch);
  if (await inMirror(target, host)) {
    // A copy stays in Docker under a name free of the mirror's address, for offline bundles.
    if (!(await imageExists(ctx, kept))) {
      await run("docker", ["pull", "--platform", ARCHES[arch].platform, target], { env: ctx.env });
      await run("docker", ["tag", target, kept], { env: ctx.env });
    }
    return;
  }
  const local = arch === hostArch() ? upstream : target;
  // Loaded from an offline bundle: the image is here under its kept name.
  if (!(await imageExists(ctx, local)) && (await imageExists(ctx, kept)))
    await run("docker", ["tag", kept, local], { env: ctx.env });
  if (!(await imageExists(ctx, local))) {
    if (image === "debian") await debianSlim(ctx, arch, local);
    else {
      const debian =
        arch === hostArch() ? baseImages.debian : platformRef(baseImages.debian, arch, host);
      await nodeSlim(ctx, arch, local, debian);
    }
  }
  ctx.note(`push ${target}`);
  if (local !== target) await run("docker", ["tag", local, target], { env: ctx.env });
  if (kept !== local) await run("docker", ["tag", local, kept], { env: ctx.env });
  await run("docker", ["push", target], { env: ctx.env, logFile: ctx.logFile });
}

/**
 * The name a base image keeps in the local Docker engine: the upstream name for the machine's
 * own platform, `mcp-pipeline/<path>:<tag>-<os>-<arch>` for another (Docker 20.10 holds one
 * platform per name, and this one does not depend on the mirror's address).
 */
export function keptRef(ref: string, arch: Arch): string {
  if (arch === hostArch()) return ref;
  const { path, tag = "latest" } = parseImageRef(ref);
  return `mcp-pipeline/${path}:${tag}-${ARCHES[arch].platform.replace("/", "-")}`;
}

/** Every base image kept in Docker, for every platform: what an offline bundle carries. */
export function keptBaseImages(): string[] {
  return allArches().flatMap((arch) => Object.values(baseImages).map((ref) => keptRef(ref, arch)));
}

/**
 * The base images the Dockerfile names, under their upstream names: in the
 * local Docker engine for the host's platform, and in the pull mirror as a
 * multi-platform index (linux/amd64 + linux/arm64) so a build for either
 * platform — Dagger's `dockerBuild({ platform })`, `docker buildx --platform` —
 * resolves. Online, upstream serves them (the official images are multi-platform).
 *
 * Order keeps the mirror usable throughout: each platform's image is pushed
 * under its own tag first; only then is the index written under the upstream
 * tag, replacing the single-platform manifest there, whose digest becomes the
 * host platform's entry unchanged.
 */
export const baseImagesStep: Step = {
  id: "base-images",
  title: `Base images (${Object.values(baseImages).join(", ")}; ${Object.values(ARCHES)
    .map((a) => a.platform)
    .join(" + ")})`,
  async isDone(ctx) {
    if (ctx.mode === "online") return true;
    const wanted = allArches()
      .map((a) => ARCHES[a].platform)
      .sort()
      .join(",");
    for (const ref of Object.values(baseImages)) {
      if ((await mirrorPlatforms(ref, mirrorPushHost(ctx))).join(",") !== wanted) return false;
    }
    for (const ref of keptBaseImages()) if (!(await imageExists(ctx, ref))) return false;
    return true;
  },
  async run(ctx) {
    const arches = allArches();
    const host = mirrorPushHost(ctx);
    for (const arch of arches) {
      for (const image of IMAGE_ORDER) await pushPlatform(ctx, image, arch);
    }
    for (const image of IMAGE_ORDER) {
      const ref = baseImages[image];
      const wanted = arches.map((a) => ARCHES[a].platform).sort();
      // The host's platform under the upstream name locally, for plain `docker build`.
      if (!(await imageExists(ctx, ref))) {
        await run("docker", ["pull", platformRef(ref, hostArch(), host)], { env: ctx.env });
        await run("docker", ["tag", platformRef(ref, hostArch(), host), ref], { env: ctx.env });
      }
      if ((await mirrorPlatforms(ref, host)).join(",") === wanted.join(",")) continue;
      ctx.note(`index ${ref} (${wanted.join(", ")})`);
      await run(
        "docker-buildx",
        [
          "imagetools",
          "create",
          "-t",
          mirrorRef(ref, host),
          ...arches.map((a) => platformRef(ref, a, host)),
        ],
        { env: ctx.env, logFile: ctx.logFile },
      );
      if ((await mirrorPlatforms(ref, host)).join(",") !== wanted.join(",")) {
        throw new ToolchainError(
          ToolchainErrorCode.NotReady,
          `${ref} was pushed as an index but the mirror does not serve it as one.`,
          { hint: `Read ${join(ctx.paths.logs, "registry-mirror.log")} and ${ctx.logFile}.` },
        );
      }
    }
  },
};
