import { type Check, type CheckContext, type CheckResult, timed } from "../checks/check.js";
import { CHECKS } from "../checks/index.js";
import { type ResultCache, resultKey } from "./result-cache.js";

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
  ctx: Omit<CheckContext, "shared">,
  opts: VerifyOptions,
): Promise<CheckResult[]> {
  const shared = sharedWork();
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
          const checkCtx = { ...ctx, shared: shared.get };
          const key =
            opts.cache && check.cacheKey
              ? await keyOf(check, checkCtx, opts.cache.pipeline)
              : undefined;
          const hit = key === undefined ? undefined : opts.cache?.results.lookup(key);
          if (hit) result = hit;
          else {
            opts.onStart?.(check.id);
            let files: string[] | undefined;
            result = await timed(check.id, async () => {
              const outcome = await check.run(checkCtx);
              files = outcome.files;
              return outcome;
            });
            if (key !== undefined) opts.cache?.results.store(key, result, files);
          }
        }
        opts.onResult?.(result);
        return result;
      }),
    );
  } finally {
    await shared.dispose();
  }
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
