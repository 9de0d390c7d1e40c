import { checkComposeSmoke } from "../checks/compose-smoke.js";
import { checkHealthcheck } from "../checks/healthcheck.js";
import { checkNonRoot } from "../checks/non-root.js";
import { checkSizeBudget } from "../checks/size-budget.js";
import { runTrivy } from "../checks/trivy.js";
import type { Config } from "../config.js";
import { type CheckResult, timed } from "../result.js";

export interface VerifyInputs {
  image: string;
  tarball: string;
  cwd: string;
  config: Config;
  runEnv: Record<string, string>;
  offline: boolean;
  env: NodeJS.ProcessEnv;
  /** Check ids to skip (reported as `skipped`). */
  skip: readonly string[];
  onCheck?: (result: CheckResult) => void;
}

export interface VerifyResult {
  checks: CheckResult[];
  sizeBytes: number | null;
  compressedBytes: number | null;
}

/** Every check id, in the order they run. */
export const CHECK_IDS = [
  "non-root",
  "size-budget",
  "healthcheck",
  "trivy",
  "trivy-vulnerabilities",
  "compose-smoke",
] as const;

/**
 * Runs every gate against the built image. Each returns a CheckResult; one
 * failing does not stop the others, so a report shows everything to fix at once.
 */
export async function verify(v: VerifyInputs): Promise<VerifyResult> {
  const checks: CheckResult[] = [];
  const add = (r: CheckResult) => {
    checks.push(r);
    v.onCheck?.(r);
  };
  const skipped = (id: string): CheckResult => ({
    id,
    status: "skipped",
    summary: "skipped on request (--skip)",
    details: [],
    durationMs: 0,
  });
  let sizeBytes: number | null = null;
  let compressedBytes: number | null = null;

  add(
    v.skip.includes("non-root")
      ? skipped("non-root")
      : await timed("non-root", () => checkNonRoot(v.image, v.runEnv)),
  );
  add(
    v.skip.includes("size-budget")
      ? skipped("size-budget")
      : await timed("size-budget", async () => {
          const r = await checkSizeBudget(v.image, v.tarball, v.config.sizeBudget);
          sizeBytes = r.sizeBytes;
          compressedBytes = r.compressedBytes;
          return { status: r.status, summary: r.summary, details: r.details };
        }),
  );
  add(
    v.skip.includes("healthcheck")
      ? skipped("healthcheck")
      : await timed("healthcheck", () =>
          checkHealthcheck(v.image, v.runEnv, v.config.health.timeoutSeconds),
        ),
  );
  if (v.skip.includes("trivy")) {
    add(skipped("trivy"));
    add(skipped("trivy-vulnerabilities"));
  } else {
    let vulns: CheckResult | undefined;
    const scan = await timed("trivy", async () => {
      const started = Date.now();
      const out = await runTrivy({
        tarball: v.tarball,
        reportDir: v.config.reportDir,
        cwd: v.cwd,
        config: v.config.trivy,
        offline: v.offline,
        env: v.env,
      });
      vulns = {
        id: "trivy-vulnerabilities",
        ...out.vulnerabilities,
        durationMs: Date.now() - started,
      };
      return out.scan;
    });
    add(scan);
    // The scan runs either way (one Trivy pass); --skip trivy-vulnerabilities only drops its verdict.
    if (v.skip.includes("trivy-vulnerabilities")) vulns = skipped("trivy-vulnerabilities");
    add(
      vulns ?? {
        id: "trivy-vulnerabilities",
        status: "skipped",
        summary: "the Trivy scan did not run",
        details: [],
        durationMs: 0,
      },
    );
  }
  add(
    v.skip.includes("compose-smoke")
      ? skipped("compose-smoke")
      : await timed("compose-smoke", () =>
          checkComposeSmoke({
            image: v.image,
            cwd: v.cwd,
            compose: v.config.compose,
            runEnv: v.runEnv,
            env: v.env,
          }),
        ),
  );
  return { checks, sizeBytes, compressedBytes };
}
