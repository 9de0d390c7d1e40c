import { type CheckContext, type CheckResult, timed } from "../checks/check.js";
import { CHECKS } from "../checks/index.js";

/**
 * Runs every gate in the check table against the built image. One failing
 * does not stop the others, so a report shows everything to fix at once;
 * a skipped id is reported as `skipped`, never as passed.
 */
export async function verify(
  ctx: CheckContext,
  opts: { skip: readonly string[]; onResult?: (result: CheckResult) => void },
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of CHECKS) {
    const result: CheckResult = opts.skip.includes(check.id)
      ? {
          id: check.id,
          status: "skipped",
          summary: "skipped on request (--skip)",
          details: [],
          durationMs: 0,
        }
      : await timed(check.id, () => check.run(ctx));
    results.push(result);
    opts.onResult?.(result);
  }
  return results;
}

/** A `shared` for CheckContext: each key's work runs once, on first use. */
export function sharedWork(): CheckContext["shared"] {
  const work = new Map<string, Promise<unknown>>();
  return <T>(key: string, compute: () => Promise<T>): Promise<T> => {
    let pending = work.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = compute();
      work.set(key, pending);
    }
    return pending;
  };
}
