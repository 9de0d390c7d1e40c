import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { ToolchainError, ToolchainErrorCode } from "../../host/errors.js";
import { CommandError, run } from "../../host/exec.js";
import type { Step, StepContext } from "../context.js";
import { type ToolchainSettings, usesSharedEngine } from "../settings.js";
import { type RegistriesState, readRegistries } from "../state.js";
import { versions } from "../versions.js";
import { engineConfig } from "./dagger-engine.js";
import { wantedRegistries } from "./registry.js";

type RegistryEntry = { mirrors?: string[]; http?: boolean } & Record<string, unknown>;
export type EngineConfig = { registries?: Record<string, RegistryEntry> } & Record<string, unknown>;

/**
 * The file the Dagger CLI bind-mounts over the engine's `/etc/dagger/engine.json`
 * when it starts an engine container (engine/client/drivers/container.go:
 * `xdg.ConfigHome/dagger/engine.json`).
 */
export function engineConfigFile(ctx: Pick<StepContext, "settings">): string {
  return join(ctx.settings.configHome, "dagger", "engine.json");
}

/**
 * The container the CLI starts the engine in: `dagger-engine-<tag>` by default,
 * or the `container=` of a `docker-image://…?container=NAME` runner host.
 */
export function engineContainerName(settings: Pick<ToolchainSettings, "runnerHost">): string {
  const host = settings.runnerHost;
  if (host && /^(docker-)?image:\/\//.test(host)) {
    const url = new URL(host);
    const named = url.searchParams.get("container");
    if (named) return named;
    const ref = `${url.host}${url.pathname}`;
    const tag =
      ref.lastIndexOf(":") > ref.lastIndexOf("/") ? ref.slice(ref.lastIndexOf(":") + 1) : "latest";
    return `dagger-engine-${tag}`;
  }
  return `dagger-engine-v${versions.dagger}`;
}

const ownedFile = (ctx: Pick<StepContext, "paths">) =>
  join(ctx.paths.state, "engine-config-owned.json");

/**
 * Merges our registry entries into a user's engine config without dropping
 * anything of theirs: `http` is set on our registries, our mirror goes first in
 * the `mirrors` list of docker.io and gcr.io, and addresses we wrote before
 * (`previous`, e.g. a registry that moved port) are taken out again.
 */
export function mergeEngineConfig(
  existing: EngineConfig,
  ours: { registries: Record<string, RegistryEntry> },
  previous: string[],
): EngineConfig {
  const current = new Set(Object.keys(ours.registries));
  const stale = new Set(previous.filter((a) => !current.has(a)));
  const registries: Record<string, RegistryEntry> = {};
  for (const [key, entry] of Object.entries(existing.registries ?? {})) {
    if (stale.has(key)) continue;
    const mirrors = entry.mirrors?.filter((m) => !stale.has(m));
    registries[key] = { ...entry, ...(entry.mirrors ? { mirrors } : {}) };
  }
  for (const [key, entry] of Object.entries(ours.registries)) {
    const merged: RegistryEntry = { ...registries[key] };
    if (entry.http) merged.http = true;
    if (entry.mirrors) {
      merged.mirrors = [
        ...entry.mirrors,
        ...(merged.mirrors ?? []).filter((m) => !entry.mirrors?.includes(m)),
      ];
    }
    registries[key] = merged;
  }
  return { ...existing, registries };
}

/** True when `config` already has every entry of `ours` (an engine started with it can use them). */
export function coversEngineConfig(
  config: EngineConfig,
  ours: { registries: Record<string, RegistryEntry> },
): boolean {
  return Object.entries(ours.registries).every(([key, entry]) => {
    const have = config.registries?.[key];
    if (!have) return false;
    if (entry.http && !have.http) return false;
    return (entry.mirrors ?? []).every((m) => have.mirrors?.includes(m));
  });
}

function desired(ctx: StepContext): { registries: Record<string, RegistryEntry> } {
  const recorded = readRegistries(ctx.paths);
  const inUse: RegistriesState = {};
  for (const name of wantedRegistries(ctx)) inUse[name] = recorded[name];
  return engineConfig(inUse);
}

function readConfig(file: string): EngineConfig {
  if (!existsSync(file)) return {};
  try {
    return z.record(z.string(), z.unknown()).parse(JSON.parse(readFileSync(file, "utf8")));
  } catch (err) {
    throw new ToolchainError(
      ToolchainErrorCode.BadSetting,
      `${file} is not a JSON object, so setup cannot add the local registries to it.`,
      { hint: `Fix the file (or move it away) and run \`mcp-pipeline setup\` again.`, cause: err },
    );
  }
}

/** The config a running engine container of ours started with, or undefined when none runs. */
async function runningEngineConfig(ctx: StepContext): Promise<EngineConfig | undefined> {
  const container = engineContainerName(ctx.settings);
  const running = await run("docker", ["ps", "-q", "--filter", `name=^${container}$`], {
    env: ctx.env,
  }).catch(() => "");
  if (!running.trim()) return undefined;
  try {
    return JSON.parse(
      await run("docker", ["exec", container, "cat", "/etc/dagger/engine.json"], {
        env: ctx.env,
        timeoutMs: 20_000,
      }),
    ) as EngineConfig;
  } catch {
    return {};
  }
}

/**
 * The state volumes the engine container mounts that Docker no longer has. Docker keeps one
 * container list per image store (a container made on the containerd store is invisible on the
 * classic one, and the other way round) but one set of volumes, so `docker volume prune` on one
 * store deletes the state of the other store's engine; `docker start` then fails with "no such
 * volume" and so does every Dagger run. Empty when there is no such container.
 */
export async function lostEngineVolumes(
  env: NodeJS.ProcessEnv,
  container: string,
): Promise<string[]> {
  let mounts: { Type?: string; Name?: string }[];
  try {
    mounts = JSON.parse(
      await run("docker", ["container", "inspect", "--format", "{{json .Mounts}}", container], {
        env,
        timeoutMs: 20_000,
      }),
    ) as { Type?: string; Name?: string }[];
  } catch {
    return [];
  }
  const lost: string[] = [];
  for (const mount of mounts ?? []) {
    if (mount.Type !== "volume" || !mount.Name) continue;
    // Only Docker's own answer counts: a timeout or a daemon gone away is not a lost volume.
    const gone = await run("docker", ["volume", "inspect", mount.Name], {
      env,
      timeoutMs: 20_000,
    }).then(
      () => false,
      (err: unknown) => err instanceof CommandError && /no such volume/i.test(err.output),
    );
    if (gone) lost.push(mount.Name);
  }
  return lost;
}

/**
 * The local registries in the engine config the Dagger CLI mounts into the
 * engine it starts (`$XDG_CONFIG_HOME/dagger/engine.json`), merged into what is
 * there. The official engine otherwise speaks HTTPS to 172.17.0.1:5001 and
 * cannot publish locally. The engine reads its config when it starts, so an
 * engine container started without these entries is removed; the next
 * `dagger run` starts a fresh one. Nothing to do when no local registry is in
 * use, or the engine is shared (its operator configures it). An engine container
 * that has lost its state volume (`lostEngineVolumes`) is removed first, whatever
 * the registries.
 */
export const engineConfigStep: Step = {
  id: "engine-config",
  title: "Dagger engine config for the local registries",
  async isDone(ctx) {
    if (usesSharedEngine(ctx.settings)) return true;
    if ((await lostEngineVolumes(ctx.env, engineContainerName(ctx.settings))).length > 0)
      return false;
    const ours = desired(ctx);
    if (Object.keys(ours.registries).length === 0) return true;
    if (!coversEngineConfig(readConfig(engineConfigFile(ctx)), ours)) return false;
    const running = await runningEngineConfig(ctx);
    return running === undefined || coversEngineConfig(running, ours);
  },
  async run(ctx) {
    const container = engineContainerName(ctx.settings);
    const lost = await lostEngineVolumes(ctx.env, container);
    if (lost.length > 0) {
      ctx.warn(
        `the Dagger engine container ${container} has lost its state volume ${lost.join(", ")} (removed by \`docker volume prune\`, perhaps on the other image store), so it cannot start; removing it so the next run starts a fresh one`,
      );
      await run("docker", ["rm", "-f", container], { env: ctx.env, logFile: ctx.logFile });
    }
    const ours = desired(ctx);
    if (Object.keys(ours.registries).length === 0) return;
    const file = engineConfigFile(ctx);
    const previous = existsSync(ownedFile(ctx))
      ? z.array(z.string()).parse(JSON.parse(readFileSync(ownedFile(ctx), "utf8")))
      : [];
    const merged = mergeEngineConfig(readConfig(file), ours, previous);
    mkdirSync(dirname(file), { recursive: true });
    // Written in place: a running engine bind-mounts this very inode.
    writeFileSync(file, `${JSON.stringify(merged, null, 2)}\n`);
    writeFileSync(ownedFile(ctx), `${JSON.stringify(Object.keys(ours.registries))}\n`);
    const running = await runningEngineConfig(ctx);
    if (running !== undefined && !coversEngineConfig(running, ours)) {
      ctx.warn(
        `the running Dagger engine (${container}) started without the local registries in its config; removing it so the next run starts one with ${file}`,
      );
      // With its state volume: the next engine container gets a new one, and nothing uses the old.
      await run("docker", ["rm", "-f", "-v", container], { env: ctx.env, logFile: ctx.logFile });
    }
  },
};
