import { ExecError, GraphQLRequestError } from "@dagger.io/dagger";
import { replayable, runKey } from "../replay/key.js";
import { build } from "../stages/build.js";
import { buildErrorFrom } from "../stages/build-failure.js";
import type { Stage } from "./run.js";

/** `build`: every configured platform's image with Dagger, loaded into Docker and measured. */
export const buildStage: Stage = {
  name: () => "build",
  skip: () => false,
  async run(run, progress) {
    const { req } = run;
    const { config, cwd, environment: env } = req;
    // Worked out while the image builds; a run that passes is kept under it for replay.
    run.replayKey = replayable(req, run.facts.computed)
      ? runKey({
          stage: req.stage,
          skip: req.skip,
          config,
          cwd,
          labels: run.facts.labels,
          offline: env.offline,
          ci: env.ci,
          npmCaFile: env.npmCaFile,
          registryHosts: env.registryHosts,
        }).catch(() => undefined)
      : undefined;
    progress.update(
      `dockerBuild ${config.image.dockerfile}${config.image.target ? ` --target ${config.image.target}` : ""}`,
    );
    try {
      run.built = await build({
        cwd,
        config,
        labels: run.facts.labels,
        npmCaFile: env.npmCaFile,
        workDir: run.workDir,
        traceLog: env.traceLog,
      });
    } catch (err) {
      // The engine refusing the Dockerfile, or one of its steps failing, is the build's fault;
      // anything else (the Docker CLI, the engine connection) is not.
      throw err instanceof ExecError || err instanceof GraphQLRequestError
        ? await buildErrorFrom(err, env.traceLog)
        : err;
    }
    run.report.image.sizeBytes = run.built.facts.sizeBytes;
    run.report.image.compressedBytes = run.built.facts.compressedBytes;
    return "done";
  },
};
