import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../host/exec.js";
import type { Step, StepContext } from "../context.js";
import { DAGGER_ENGINE_IMAGE, engineImageVersion } from "../dagger-engine-image.js";
import { TOKEN_REGISTRY_ADDRESS } from "../registry-config.js";
import { usesSharedEngine } from "../settings.js";
import { type RegistriesState, readRegistries } from "../state.js";
import { baseImages, versions } from "../versions.js";
import { dockerBuild } from "./base-images.js";
import { DAGGER_ENGINE_BINARIES, daggerBuildDir } from "./dagger-cli.js";

/**
 * Engine registry config for the local registries in use: Docker Hub and
 * gcr.io resolve from the mirror, and the local registries speak plain HTTP.
 */
export function engineConfig(registries: RegistriesState): {
  registries: Record<string, { mirrors?: string[]; http?: boolean }>;
} {
  const entries: Record<string, { mirrors?: string[]; http?: boolean }> = {};
  if (registries.mirror) {
    entries["docker.io"] = { mirrors: [registries.mirror.address] };
    entries["gcr.io"] = { mirrors: [registries.mirror.address] };
    entries[registries.mirror.address] = { http: true };
  }
  if (registries.auth) {
    entries[registries.auth.address] = { http: true };
    // The token-auth registry the end-to-end tests start beside it (GHCR's way of answering).
    entries[TOKEN_REGISTRY_ADDRESS] = { http: true };
  }
  return { registries: entries };
}

/**
 * Air-gapped: assembles the engine image from Debian packages and the binaries
 * built by the dagger-cli step. Online: the CLI pulls the official image itself.
 */
export const daggerEngine: Step = {
  id: "dagger-engine",
  title: `Dagger engine image ${versions.dagger}`,
  async isDone(ctx) {
    // Online the CLI pulls the official image; a shared engine needs no local image at all.
    if (ctx.mode === "online" || usesSharedEngine(ctx.settings)) return true;
    return (await engineImageVersion(ctx.env)) === `v${versions.dagger}`;
  },
  async run(ctx: StepContext) {
    const context = mkdtempSync(join(ctx.paths.root, "ctx-engine-"));
    try {
      mkdirSync(join(context, "out"));
      for (const bin of DAGGER_ENGINE_BINARIES) {
        copyFileSync(join(daggerBuildDir(ctx), "out", bin), join(context, "out", bin));
        chmodSync(join(context, "out", bin), 0o755);
      }
      writeFileSync(
        join(context, "engine.json"),
        `${JSON.stringify(engineConfig(readRegistries(ctx.paths)), null, 2)}\n`,
      );
      ctx.note(`build ${DAGGER_ENGINE_IMAGE}`);
      await dockerBuild(ctx, "dagger-engine.Dockerfile", context, DAGGER_ENGINE_IMAGE, {
        DEBIAN_IMAGE: baseImages.debian,
        DAGGER_VERSION: versions.dagger,
      });
      // A running engine from an older image would keep serving; the CLI starts a fresh one (with
      // a fresh state volume: the old one goes with its container).
      const stale = await run(
        "docker",
        ["ps", "-aq", "--filter", `name=dagger-engine-v${versions.dagger}`],
        { env: ctx.env },
      );
      if (stale.trim())
        await run("docker", ["rm", "-f", "-v", ...stale.trim().split(/\s+/)], { env: ctx.env });
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  },
};
