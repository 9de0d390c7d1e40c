import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Step, StepContext } from "./context.js";
import { toolchainEnv } from "./env.js";
import { ToolchainError } from "./errors.js";
import { detectMode, type Mode } from "./mode.js";
import type { ToolchainPaths } from "./paths.js";
import { ProgressLine } from "./progress.js";
import { AUTH_REGISTRY_ADDRESS, MIRROR_ADDRESS } from "./registry-config.js";
import { writeState } from "./state.js";
import { baseImagesStep } from "./steps/base-images.js";
import { assertSdkVersionMatches, daggerCli } from "./steps/dagger-cli.js";
import { DAGGER_ENGINE_IMAGE, daggerEngine } from "./steps/dagger-engine.js";
import { dockerEngine } from "./steps/docker-engine.js";
import { emulation } from "./steps/emulation.js";
import { goToolSteps } from "./steps/go-tools.js";
import { registries } from "./steps/registry.js";
import { formatDuration } from "./terminal.js";
import { versions } from "./versions.js";

/** Steps in order: later ones build on earlier ones (buildx before image builds, registry before pushes). */
export const STEPS: readonly Step[] = [
  dockerEngine,
  registries,
  ...goToolSteps,
  daggerCli,
  emulation,
  baseImagesStep,
  daggerEngine,
];

export interface SetupResult {
  mode: Mode;
  steps: { id: string; status: "done" | "skipped"; ms: number }[];
  totalMs: number;
}

/**
 * Brings the toolchain up: each step is skipped when its check already
 * passes, so a second run is quick and an interrupted run resumes.
 */
export async function setup(
  repoRoot: string,
  paths: ToolchainPaths,
  baseEnv: NodeJS.ProcessEnv = process.env,
): Promise<SetupResult> {
  const started = Date.now();
  assertSdkVersionMatches(repoRoot);
  for (const dir of [paths.root, paths.bin, paths.logs, paths.state])
    mkdirSync(dir, { recursive: true });
  const { mode, reason } = await detectMode(baseEnv);
  process.stderr.write(`toolchain: ${mode} mode (${reason}); cache ${paths.root}\n`);
  const env = toolchainEnv(paths, baseEnv);
  const results: SetupResult["steps"] = [];
  for (const [i, step] of STEPS.entries()) {
    const progress = new ProgressLine(`[${i + 1}/${STEPS.length}] ${step.title}`);
    const ctx: StepContext = {
      mode,
      paths,
      env,
      logFile: join(paths.logs, `${step.id}.log`),
      note: (text) => progress.update(text),
    };
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
  writeState(paths, {
    mode,
    updatedAt: new Date().toISOString(),
    bin: paths.bin,
    versions: { ...versions },
    registry: {
      mirror: MIRROR_ADDRESS,
      auth: { address: AUTH_REGISTRY_ADDRESS, credentialsFile: paths.registryAuthFile },
    },
    daggerEngineImage: DAGGER_ENGINE_IMAGE,
  });
  const totalMs = Date.now() - started;
  process.stderr.write(`toolchain: ready in ${formatDuration(totalMs)}\n`);
  return { mode, steps: results, totalMs };
}
