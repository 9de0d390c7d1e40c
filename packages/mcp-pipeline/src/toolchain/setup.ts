import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ToolchainError } from "../host/errors.js";
import { ProgressLine } from "../host/progress.js";
import { formatDuration } from "../host/terminal.js";
import { bundleImagesStep, bundleStep } from "./bundle.js";
import type { SetupNeeds, Step, StepContext } from "./context.js";
import { DAGGER_ENGINE_IMAGE } from "./dagger-engine-image.js";
import { toolchainEnv } from "./env.js";
import { detectMode } from "./mode.js";
import type { Mode, ToolchainPaths } from "./settings.js";
import { type ToolchainSettings, usesSharedEngine } from "./settings.js";
import { readProvenance, readRegistries, writeState } from "./state.js";
import { baseImagesStep } from "./steps/base-images.js";
import { cosignKeyPair } from "./steps/cosign-key.js";
import { assertSdkVersionMatches, daggerCli } from "./steps/dagger-cli.js";
import { daggerEngine } from "./steps/dagger-engine.js";
import { dockerEngine } from "./steps/docker-engine.js";
import { emulation } from "./steps/emulation.js";
import { engineConfigFile, engineConfigStep } from "./steps/engine-config.js";
import { goToolSteps } from "./steps/go-tools.js";
import { mcpRegistryStep } from "./steps/mcp-registry.js";
import { registries, wantedRegistries } from "./steps/registry.js";
import { versions } from "./versions.js";

/**
 * Steps in order: later ones build on earlier ones (cosign before the downloads
 * it checks, the registry before pushes, the engine image before its config).
 */
export const STEPS: readonly Step[] = [
  dockerEngine,
  ...goToolSteps,
  daggerCli,
  registries,
  cosignKeyPair,
  emulation,
  baseImagesStep,
  daggerEngine,
  engineConfigStep,
  mcpRegistryStep,
];

export interface SetupOptions {
  settings: ToolchainSettings;
  needs: SetupNeeds;
  /** Install this offline bundle (`--from-bundle`) instead of building or downloading. */
  fromBundle?: string;
  env?: NodeJS.ProcessEnv;
  /** The steps to bring up, in order (tests); every step of `STEPS` when absent. */
  steps?: readonly Step[];
}

/**
 * The steps with an offline bundle's: its files first (they may hold the Docker engine the
 * engine step starts), its images right after the engine step (they need an engine to load).
 */
export function withBundle(steps: readonly Step[], file: string): Step[] {
  const engine = steps.findIndex((s) => s.id === dockerEngine.id) + 1;
  return [
    bundleStep(file),
    ...steps.slice(0, engine),
    bundleImagesStep(file),
    ...steps.slice(engine),
  ];
}

export interface SetupResult {
  mode: Mode;
  steps: { id: string; status: "done" | "skipped"; ms: number }[];
  totalMs: number;
}

/**
 * Brings the toolchain up: each step is skipped when its check already
 * passes, so a second run is quick and an interrupted run resumes.
 */
export async function setup(paths: ToolchainPaths, options: SetupOptions): Promise<SetupResult> {
  const baseEnv = options.env ?? process.env;
  const started = Date.now();
  assertSdkVersionMatches();
  for (const dir of [paths.root, paths.bin, paths.logs, paths.state])
    mkdirSync(dir, { recursive: true });
  // A bundle is for machines without internet: it brings the air-gapped engine and base images.
  const { mode, reason } =
    options.fromBundle && baseEnv.AIRGAP === undefined
      ? { mode: "airgap" as const, reason: "installing an offline bundle" }
      : await detectMode(baseEnv);
  process.stderr.write(`toolchain: ${mode} mode (${reason}); cache ${paths.root}\n`);
  if (options.settings.downloadMirror && mode === "online")
    process.stderr.write(`toolchain: downloads from ${options.settings.downloadMirror}\n`);
  const all = options.steps ?? STEPS;
  const steps = options.fromBundle ? withBundle(all, options.fromBundle) : all;
  const context = (step: Step, progress?: ProgressLine): StepContext => ({
    mode,
    paths,
    settings: options.settings,
    needs: options.needs,
    // Made for each step: the engine step may install the Docker CLI the later steps call.
    env: toolchainEnv(paths, baseEnv),
    logFile: join(paths.logs, `${step.id}.log`),
    note: (text) => progress?.update(text),
    warn: (text) => progress?.persist(`  ! ${text}`),
  });
  // Every step's check at once: on a ready machine (every run of the pipeline)
  // that costs the slowest check rather than the sum. A check is only trusted
  // while every step before it passed too; from the first step that has work
  // to do, each later check runs again after the steps before it.
  const prechecks = steps.map(async (step) => {
    const started = Date.now();
    const done = await step.isDone(context(step)).catch(() => false);
    return { done, ms: Date.now() - started };
  });
  let readySoFar = true;
  const results: SetupResult["steps"] = [];
  for (const [i, step] of steps.entries()) {
    const title = `[${i + 1}/${steps.length}] ${step.title}`;
    const precheck = await (prechecks[i] as (typeof prechecks)[number]);
    readySoFar &&= precheck.done;
    if (readySoFar) {
      process.stderr.write(`${title} ok, already there (${formatDuration(precheck.ms)})\n`);
      results.push({ id: step.id, status: "skipped", ms: precheck.ms });
      continue;
    }
    const progress = new ProgressLine(title);
    const ctx = context(step, progress);
    try {
      if (await step.isDone(ctx)) {
        results.push({ id: step.id, status: "skipped", ms: progress.finish("ok, already there") });
        continue;
      }
      await step.run(ctx);
      if (!(await step.isDone(ctx))) {
        throw new ToolchainError(
          "TOOLCHAIN_NOT_READY",
          `${step.title}: the step ran but its check still fails.`,
          {
            hint: `Read ${ctx.logFile}.`,
          },
        );
      }
      results.push({ id: step.id, status: "done", ms: progress.finish("done") });
    } catch (err) {
      progress.finish("FAILED");
      if (err instanceof ToolchainError && !err.hint) {
        throw new ToolchainError(err.code, err.message, {
          hint: `Full log: ${ctx.logFile}`,
          cause: err,
        });
      }
      throw err;
    }
  }
  const inUse = wantedRegistries({ mode, needs: options.needs });
  const recorded = readRegistries(paths);
  const mirror = inUse.includes("mirror") ? recorded.mirror : undefined;
  const auth = inUse.includes("auth") ? recorded.auth : undefined;
  writeState(paths, {
    mode,
    updatedAt: new Date().toISOString(),
    bin: paths.bin,
    versions: { ...versions },
    registry: {
      mirror: mirror?.address ?? null,
      auth: auth ? { address: auth.address, credentialsFile: paths.registryAuthFile } : null,
    },
    daggerEngineImage: DAGGER_ENGINE_IMAGE,
    engineConfig:
      (mirror || auth) && !usesSharedEngine(options.settings)
        ? engineConfigFile({ settings: options.settings })
        : null,
    provenance: Object.values(readProvenance(paths)),
  });
  const totalMs = Date.now() - started;
  process.stderr.write(`toolchain: ready in ${formatDuration(totalMs)}\n`);
  return { mode, steps: results, totalMs };
}
