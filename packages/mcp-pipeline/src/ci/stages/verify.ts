import { type ResultCache, resultKey } from "../cache/results.js";
import { type Check, type CheckContext, type CheckResult, timed } from "../checks/check.js";
import { CHECKS } from "../checks/index.js";

/** One platform's image and the run's settings, as `verify` is given them. */
export type PlatformContext = Omit<
  CheckContext,
  "shared" | "sharedAcrossPlatforms" | "nativeImage"
>;

export interface VerifyOptions {
  /** Check ids to report as skipped. */
  skip: readonly string[];
  /** The checks to run; the whole table by default. */
  checks?: readonly Check[];
  onStart?: (id: string) => void;
  onResult?: (result: CheckResult) => void;
  /** Reuses passed results whose inputs have not changed, and keeps fresh ones. */
  cache?: { results: ResultCache; pipeline: string } | undefined;
}

/**
 * Runs every gate in the check table against the built image, all at once:
 * they share nothing but what `ctx.shared` hands out (one Trivy scan, one
 * compose stack), and one failing does not stop the others, so a report
 * shows everything to fix at once. Results come back in table order; a
 * skipped id is reported as `skipped`, never as passed. Shared work is
 * disposed of (the stack taken down) after the last check.
 */
export async function verify(
  contexts: readonly PlatformContext[],
  opts: VerifyOptions,
): Promise<CheckResult[]> {
  const shared = sharedWork();
  const [native] = contexts;
  if (!native) throw new Error("verify needs at least one image");
  const nativeImage = contexts.find((ctx) => ctx.native)?.image;
  // Each platform's work (its Trivy scan) is its own; the stack is only ever the native one's.
  const contextOf = (ctx: PlatformContext): CheckContext => ({
    ...ctx,
    nativeImage,
    shared: (key, compute, dispose) => shared.get(`${ctx.platform} ${key}`, compute, dispose),
    sharedAcrossPlatforms: (key, compute) => shared.get(`* ${key}`, compute),
  });
  const runOne = async (check: Check, ctx: CheckContext): Promise<CheckResult> => {
    const key =
      opts.cache && check.cacheKey ? await keyOf(check, ctx, opts.cache.pipeline) : undefined;
    const hit = key === undefined ? undefined : opts.cache?.results.lookup(key);
    if (hit) return hit;
    let files: string[] | undefined;
    const result = await timed(check.id, async () => {
      const outcome = await check.run(ctx);
      files = outcome.files;
      return outcome;
    });
    if (key !== undefined) opts.cache?.results.store(key, result, files);
    return result;
  };
  try {
    return await Promise.all(
      (opts.checks ?? CHECKS).map(async (check): Promise<CheckResult> => {
        let result: CheckResult;
        if (opts.skip.includes(check.id)) {
          result = {
            id: check.id,
            status: "skipped",
            summary: "skipped on request (--skip)",
            details: [],
            durationMs: 0,
          };
        } else {
          opts.onStart?.(check.id);
          const targets = check.perPlatform ? contexts : [native];
          const results = await Promise.all(targets.map((ctx) => runOne(check, contextOf(ctx))));
          result = mergePlatforms(
            results.map((r, i) => ({ platform: targets[i]?.platform ?? "", result: r })),
          );
        }
        opts.onResult?.(result);
        return result;
      }),
    );
  } finally {
    await shared.dispose();
  }
}

/**
 * One result from a check's per-platform results: failed when any failed (the summary names
 * each failing platform), skipped when all were, else passed; every platform's details under
 * its name. A single platform's result is returned as it is.
 */
export function mergePlatforms(
  results: readonly { platform: string; result: CheckResult }[],
): CheckResult {
  const [first, ...rest] = results;
  if (!first) throw new Error("no results to merge");
  if (rest.length === 0) return first.result;
  const failed = results.filter((r) => r.result.status === "failed");
  const status = failed.length
    ? "failed"
    : results.every((r) => r.result.status === "skipped")
      ? "skipped"
      : "passed";
  const shown = failed.length ? failed : results;
  const cached = results.every((r) => r.result.cached) ? first.result.cached : undefined;
  const markdown = results.flatMap((r) =>
    r.result.markdown ? [`**${r.platform}**\n\n${r.result.markdown}`] : [],
  );
  return {
    id: first.result.id,
    status,
    summary: shown.map((r) => `${r.platform}: ${r.result.summary}`).join("; "),
    details: results.flatMap((r) => [
      `[${r.platform}] ${r.result.status}: ${r.result.summary}`,
      ...r.result.details.map((d) => `  ${d}`),
    ]),
    ...(markdown.length ? { markdown: markdown.join("\n\n") } : {}),
    durationMs: Math.max(...results.map((r) => r.result.durationMs)),
    ...(cached ? { cached } : {}),
  };
}

/** The cache key of a check's result; undefined (always run) when its inputs cannot be read. */
async function keyOf(
  check: Check,
  ctx: CheckContext,
  pipeline: string,
): Promise<string | undefined> {
  try {
    const inputs = await check.cacheKey?.(ctx);
    return resultKey({ check: check.id, image: ctx.facts.id, pipeline, inputs });
  } catch {
    return undefined;
  }
}

/** `CheckContext.shared`: each key's work runs once, on first use; `dispose` undoes it all. */
export function sharedWork(): { get: CheckContext["shared"]; dispose(): Promise<void> } {
  const work = new Map<string, Promise<unknown>>();
  const disposers: (() => Promise<void>)[] = [];
  return {
    get<T>(key: string, compute: () => Promise<T>, dispose?: (value: T) => Promise<void>) {
      let pending = work.get(key) as Promise<T> | undefined;
      if (!pending) {
        pending = compute();
        work.set(key, pending);
        if (dispose) disposers.push(() => (pending as Promise<T>).then(dispose, () => undefined));
      }
      return pending;
    },
    async dispose() {
      await Promise.allSettled(disposers.map((d) => d()));
    },
  };
}
