import { emulationStatus } from "../../host/emulation.js";
import { archOf } from "../../host/platforms.js";
import { formatDuration } from "../../host/terminal.js";
import { codeFingerprint, ResultCache } from "../cache/results.js";
import type { CheckResult } from "../checks/check.js";
import { mcpContract, updateContract } from "../checks/mcp-contract.js";
import { previousRelease } from "../git/context.js";
import { verify } from "../stages/verify.js";
import type { Stage } from "./run.js";
import { gateFailed } from "./run.js";

/** `verify` (or `contract`): every gate on every platform's image, all at once. */
export const verifyStage: Stage = {
  name: (run) => (run.req.stage === "contract" ? "contract" : "verify"),
  skip: (run) => (run.req.stage === "build" ? "" : false),
  async run(run, progress) {
    const { req } = run;
    const { config, cwd, environment: env } = req;
    const built = run.built;
    if (!built) throw new Error("verify needs the build stage's images");
    const { computed } = run.facts;
    const release =
      computed.kind === "release" || computed.kind === "prerelease"
        ? { version: computed.version, previous: await previousRelease(cwd, computed.version) }
        : undefined;
    run.report.image.platforms = built.images.map((image) => ({
      platform: image.platform,
      sizeBytes: image.facts.sizeBytes,
      compressedBytes: image.facts.compressedBytes,
      digest: null,
    }));
    const contexts = await Promise.all(
      built.images.map(async (image) => ({
        platform: image.platform,
        native: image.native,
        runnable: image.native
          ? ({ ok: true } as const)
          : await emulationStatus(archOf(image.platform)),
        image: image.localRef,
        tarball: image.tarball,
        facts: image.facts,
        config,
        cwd,
        runEnv: run.runEnv,
        offline: env.offline,
        ci: env.ci,
        release,
        publishing: run.target
          ? { repository: run.target.repository, tags: computed.tags }
          : undefined,
      })),
    );
    run.report.checks = await verify(contexts, {
      skip: req.skip,
      cache: {
        results: new ResultCache({
          dir: env.resultsDir,
          stamp: run.stamp,
          read: req.useCache !== false && req.stage !== "contract",
          reportDir: config.reportDir,
        }),
        pipeline: codeFingerprint(),
      },
      ...(req.stage === "contract"
        ? { checks: [req.updateContract ? updateContract : mcpContract] }
        : {}),
      onStart: (id) => progress.update(`${id} started`),
      onResult: (c: CheckResult) =>
        progress.update(
          c.cached
            ? `${c.id} ${c.status} (cached from ${c.cached.run})`
            : `${c.id} ${c.status} in ${formatDuration(c.durationMs)}`,
        ),
    });
    return gateFailed(run) ? "gate failed" : "passed";
  },
};
