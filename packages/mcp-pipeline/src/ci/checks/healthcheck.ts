import { formatDuration } from "../../host/terminal.js";
import {
  createContainer,
  docker,
  type ImageInspect,
  inspectImage,
  removeContainer,
  startAndWatch,
} from "../docker/docker.js";
import type { Check, CheckContext, CheckOutcome } from "./check.js";

/** How often the check probes: the image's own probe command, at this interval, for this container only. */
export const PROBE_INTERVAL_MS = 250;
/** How long one probe may take when the platform runs under emulation. */
const EMULATED_PROBE_TIMEOUT_S = 30;
/** Under emulation, failing probes count only after this (or the declared start period, if longer). */
const EMULATED_START_PERIOD_S = 30;

interface State {
  Status: string;
  ExitCode: number;
  StartedAt: string;
  Health?: {
    Status: string;
    FailingStreak: number;
    Log?: { ExitCode: number; Output: string; Start: string; End: string }[];
  };
}

type Declared = NonNullable<ImageInspect["Config"]["Healthcheck"]>;

const NS_PER_MS = 1_000_000;
// Docker's defaults for fields a HEALTHCHECK leaves out.
const DEFAULTS = { Interval: 30_000, StartPeriod: 0, Retries: 3 };

/**
 * What the declared timings mean for a real deployment, given the app answers
 * `readyMs` after start: Docker runs the first probe one interval after start
 * (engines ≥ 25 probe every `--start-interval` during the start period).
 */
export function impliedTimings(declared: Declared, readyMs: number): string[] {
  const interval = declared.Interval ? declared.Interval / NS_PER_MS : DEFAULTS.Interval;
  const startPeriod = declared.StartPeriod
    ? declared.StartPeriod / NS_PER_MS
    : DEFAULTS.StartPeriod;
  const retries = declared.Retries ?? DEFAULTS.Retries;
  const firstHealthy = (every: number) => Math.max(1, Math.ceil(readyMs / every)) * every;
  const lines = [
    `declared: every ${formatDuration(interval)}, start period ${formatDuration(startPeriod)}, ${retries} retries${declared.StartInterval ? `, start interval ${formatDuration(declared.StartInterval / NS_PER_MS)}` : ""}`,
    `deployed, it turns healthy about ${formatDuration(firstHealthy(interval))} after start (the first passing probe at the declared interval)`,
  ];
  if (declared.StartInterval) {
    lines.push(
      `on engines ≥ 25, which honour --start-interval: about ${formatDuration(firstHealthy(declared.StartInterval / NS_PER_MS))}`,
    );
  }
  lines.push(
    `a failing probe marks it unhealthy after about ${formatDuration(startPeriod + retries * interval)}`,
  );
  return lines;
}

/**
 * `healthcheck`: the image declares a HEALTHCHECK, and a container started
 * from it turns `healthy` within `health.timeoutSeconds`. The container runs
 * the image's own probe every 250 ms, in its start period too (its timeout, start period and retries
 * stay as declared), so the check takes as long as the app needs to become
 * ready, not a whole declared interval; the details say what the declared
 * timings mean for a real deployment. A probe that keeps failing fails the
 * check as soon as Docker says `unhealthy`, with the probe's own output.
 */
export const healthcheck: Check = {
  id: "healthcheck",
  perPlatform: true,
  cacheKey: async (ctx) => ({
    timeoutSeconds: ctx.config.health.timeoutSeconds,
    probe: PROBE_INTERVAL_MS,
    startInterval: PROBE_INTERVAL_MS,
    env: Object.keys(ctx.runEnv).sort(),
  }),
  async run(ctx) {
    if (!ctx.runnable.ok) {
      return {
        status: "skipped",
        summary: `${ctx.platform} containers cannot run here: ${ctx.runnable.reason}`,
        details: [
          "Register QEMU in binfmt_misc (`mcp-pipeline setup` does, as root) to prove this platform's image turns healthy under emulation.",
        ],
      };
    }
    const { timeoutSeconds } = ctx.config.health;
    const native = nativeHealth(ctx);
    if (ctx.native && native) return (await native).outcome;
    // Emulated: the allowance scales with how long the image takes natively, when this run
    // checks the native platform too.
    const nativeMs = native ? (await native).readyMs : undefined;
    return (await checkHealthcheck(ctx.image, ctx.runEnv, timeoutSeconds, emulation(nativeMs)))
      .outcome;
  },
};

/**
 * The native platform's health check, run once per run whichever leg asks first: the native
 * leg reports it, the emulated legs scale their allowance by it (also when the native leg's
 * own result came from the cache).
 */
const nativeHealth = (ctx: CheckContext) => {
  const image = ctx.nativeImage;
  if (image === undefined) return undefined;
  return ctx.sharedAcrossPlatforms("healthcheck:native", () =>
    checkHealthcheck(image, ctx.runEnv, ctx.config.health.timeoutSeconds, undefined),
  );
};

/** How much slower a container's start is under QEMU than natively, as allowed for. */
export const EMULATION_SLOWDOWN = 20;

/** The time an emulated container gets before failing probes count, in seconds. */
export interface Emulation {
  startS: number;
  /** How the allowance was reached, for the details. */
  basis: string;
}

/**
 * The emulated allowance: EMULATION_SLOWDOWN times the image's native start, never less than
 * EMULATED_START_PERIOD_S; that minimum alone when the native start is unknown (no native leg in
 * the run, or it never turned healthy).
 */
export function emulation(nativeReadyMs: number | undefined): Emulation {
  if (nativeReadyMs === undefined) {
    return { startS: EMULATED_START_PERIOD_S, basis: "no native start to scale from" };
  }
  const scaled = Math.ceil((nativeReadyMs / 1000) * EMULATION_SLOWDOWN);
  return {
    startS: Math.max(EMULATED_START_PERIOD_S, scaled),
    basis: `${EMULATION_SLOWDOWN}× the native ${formatDuration(nativeReadyMs)}`,
  };
}

/**
 * Starts a container from `image` and watches its health. Natively (`emulated` undefined) the
 * image's own timings apply; under emulation the start period and each probe's timeout are
 * stretched to the allowance. Resolves to the outcome and, when it turned healthy, how long that
 * took after start.
 */
async function checkHealthcheck(
  image: string,
  runEnv: Readonly<Record<string, string>>,
  timeoutSeconds: number,
  emulated: Emulation | undefined,
): Promise<{ outcome: CheckOutcome; readyMs?: number | undefined }> {
  const native = emulated === undefined;
  const declared = (await inspectImage(image)).Config.Healthcheck;
  const test = declared?.Test;
  if (!declared || !test?.length || test[0] === "NONE") {
    return {
      outcome: {
        status: "failed",
        summary: "the image declares no HEALTHCHECK",
        details: [
          'Add one to the runtime stage in exec form, e.g. `HEALTHCHECK CMD ["/usr/local/bin/node", "/app/healthcheck.mjs"]`.',
        ],
      },
    };
  }
  const details = [`HEALTHCHECK ${JSON.stringify(test)}`];
  // Under emulation every probe starts the image's runtime under QEMU, many times slower: this
  // proves the image and its probe work on that platform, not its timings.
  const declaredStart = (declared.StartPeriod ?? 0) / 1_000_000_000;
  const emulatedStart = emulated ? Math.max(declaredStart, emulated.startS) : 0;
  // Long enough for the whole allowance and the probes after it.
  const waitSeconds = emulated
    ? Math.max(timeoutSeconds, emulatedStart + EMULATED_PROBE_TIMEOUT_S)
    : timeoutSeconds;
  const emulatedFlags = emulated
    ? [
        "--health-timeout",
        `${EMULATED_PROBE_TIMEOUT_S}s`,
        "--health-start-period",
        `${emulatedStart}s`,
      ]
    : [];
  if (emulated)
    details.push(
      `under emulation: each probe may take ${EMULATED_PROBE_TIMEOUT_S} s, failures count after ${emulatedStart} s (${emulated.basis})`,
    );
  // During the start period Docker ≥ 25 probes at the start interval (5 s unless declared), not
  // the interval: both are set, so every probe of this container comes 250 ms after the last.
  const id = await createContainer(image, runEnv, [
    "--health-interval",
    `${PROBE_INTERVAL_MS}ms`,
    "--health-start-interval",
    `${PROBE_INTERVAL_MS}ms`,
    ...emulatedFlags,
  ]);
  try {
    const verdict = await startAndWatch(
      id,
      (status) =>
        status === "health_status: healthy"
          ? "healthy"
          : status === "health_status: unhealthy"
            ? "unhealthy"
            : status === "die"
              ? "exited"
              : undefined,
      waitSeconds * 1000,
    );
    const state = JSON.parse(await docker(["inspect", "--format", "{{json .State}}", id])) as State;
    const probes = state.Health?.Log ?? [];
    const log = probes
      .slice(-3)
      .map((l) => `probe exit ${l.ExitCode}: ${l.Output.trim().slice(0, 300)}`);
    const sinceStart = (at: string) => Date.parse(at) - Date.parse(state.StartedAt);
    if (verdict === "healthy") {
      const passed = probes.find((p) => p.ExitCode === 0);
      const readyMs = passed ? sinceStart(passed.End) : 0;
      return {
        outcome: {
          status: "passed",
          summary: `healthy ${formatDuration(readyMs)} after start (probed every ${PROBE_INTERVAL_MS} ms)`,
          details: [...details, ...(native ? impliedTimings(declared, readyMs) : [])],
        },
        readyMs,
      };
    }
    if (verdict === "exited") {
      const logs = await docker(["logs", "--tail", "20", id]).catch(() => "");
      return {
        outcome: {
          status: "failed",
          summary: `the container exited with code ${state.ExitCode} before turning healthy`,
          details: [...details, ...log, "container logs:", ...logs.split("\n")],
        },
      };
    }
    if (verdict === "unhealthy") {
      const last = probes.at(-1);
      return {
        outcome: {
          status: "failed",
          summary: `the container turned unhealthy ${last ? formatDuration(sinceStart(last.End)) : ""} after start (${state.Health?.FailingStreak ?? "?"} failing probes in a row)`,
          details: [
            ...details,
            ...log,
            "Check what the probe calls answers inside the container, and its start period.",
          ],
        },
      };
    }
    return {
      outcome: {
        status: "failed",
        summary: `not healthy within ${waitSeconds} s (still ${state.Health?.Status ?? "unknown"})`,
        details: [
          ...details,
          ...log,
          "Raise health.timeoutSeconds if start-up is legitimately slow, or check what the probe waits for.",
        ],
      },
    };
  } finally {
    await removeContainer(id);
  }
}
