import { docker, inspectImage, removeContainer, runDetached } from "../docker/docker.js";
import type { Check, CheckOutcome } from "./check.js";

interface HealthState {
  Status: string;
  FailingStreak: number;
  Log?: { ExitCode: number; Output: string }[];
}

interface State {
  Status: string;
  ExitCode: number;
  Health?: HealthState;
}

/**
 * `healthcheck`: the image declares a HEALTHCHECK, and a container started
 * from it reports `healthy` within `health.timeoutSeconds`. A probe that fails
 * makes this check fail as soon as Docker says `unhealthy` (or the process
 * exits), with the probe's own output in the details.
 */
export const healthcheck: Check = {
  id: "healthcheck",
  run: (ctx) => checkHealthcheck(ctx.image, ctx.runEnv, ctx.config.health.timeoutSeconds),
};

async function checkHealthcheck(
  image: string,
  runEnv: Readonly<Record<string, string>>,
  timeoutSeconds: number,
): Promise<CheckOutcome> {
  const info = await inspectImage(image);
  const test = info.Config.Healthcheck?.Test;
  if (!test?.length || test[0] === "NONE") {
    return {
      status: "failed",
      summary: "the image declares no HEALTHCHECK",
      details: [
        'Add one to the runtime stage in exec form, e.g. `HEALTHCHECK CMD ["/usr/local/bin/node", "/app/healthcheck.mjs"]`.',
      ],
    };
  }
  const details = [`HEALTHCHECK ${JSON.stringify(test)}`];
  const id = await runDetached(image, runEnv);
  const started = Date.now();
  try {
    for (;;) {
      const state = JSON.parse(
        await docker(["inspect", "--format", "{{json .State}}", id]),
      ) as State;
      const log = (state.Health?.Log ?? [])
        .slice(-3)
        .map((l) => `probe exit ${l.ExitCode}: ${l.Output.trim().slice(0, 300)}`);
      const elapsed = (Date.now() - started) / 1000;
      if (state.Health?.Status === "healthy") {
        return {
          status: "passed",
          summary: `healthy after ${elapsed.toFixed(1)} s`,
          details,
        };
      }
      if (state.Status !== "running") {
        const logs = await docker(["logs", "--tail", "20", id]).catch(() => "");
        return {
          status: "failed",
          summary: `the container exited with code ${state.ExitCode} before turning healthy`,
          details: [...details, ...log, "container logs:", ...logs.split("\n")],
        };
      }
      if (state.Health?.Status === "unhealthy") {
        return {
          status: "failed",
          summary: `the container turned unhealthy after ${elapsed.toFixed(1)} s (${state.Health.FailingStreak} failing probes in a row)`,
          details: [
            ...details,
            ...log,
            "Check what the probe calls answers inside the container, and its start period.",
          ],
        };
      }
      if (elapsed > timeoutSeconds) {
        return {
          status: "failed",
          summary: `not healthy within ${timeoutSeconds} s (still ${state.Health?.Status ?? "unknown"})`,
          details: [
            ...details,
            ...log,
            "Raise health.timeoutSeconds if start-up is legitimately slow, or shorten the HEALTHCHECK interval.",
          ],
        };
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await removeContainer(id);
  }
}
