import { PublishError } from "../errors.js";
import { platformDigests, publish } from "../stages/publish.js";
import { firstLine } from "./failure.js";
import type { Stage } from "./run.js";
import { gateFailed, isPlainHttp } from "./run.js";

/** `publish`: only when every gate passed, every tag on one digest, to the run's target. */
export const publishStage: Stage = {
  name: () => "publish",
  skip(run) {
    if (!run.wantPublish || !["all", "publish"].includes(run.req.stage)) return "";
    if (gateFailed(run)) return "a gate failed, so nothing is published";
    const { git, computed } = run.facts;
    if (!run.target) {
      return `${git.ref} is not published (${computed.kind}); tags would be ${computed.tags.join(", ")}`;
    }
    return false;
  },
  async run(run, progress) {
    const { target, built } = run;
    if (!target || !built) throw new Error("publish needs a target and the build stage's images");
    const { tags } = run.facts.computed;
    progress.update(`${target.repository} ← ${tags.join(", ")}`);
    const variants = built.platforms
      .filter((image) => image.platform !== built.platform)
      .map((image) => image.container);
    const published = await publish(built.container, target, tags, variants).catch(
      (err: unknown) => {
        throw new PublishError(
          `publishing to ${target.repository} failed: ${firstLine(err)}. Check the registry address and that REGISTRY_USERNAME / REGISTRY_PASSWORD may push there.`,
          { cause: err },
        );
      },
    );
    run.published = published;
    const { report } = run;
    report.image.ref = `${target.repository}:${tags[0]}`;
    report.image.digest = published.digest;
    if (built.images.length > 1 && report.image.platforms) {
      const local = run.req.environment.localRegistry?.address;
      const digests = await platformDigests(
        target,
        published.digest,
        isPlainHttp(target.address, local),
      ).catch((err: unknown) => {
        // The push succeeded; only the report's per-platform digests are missing.
        process.stderr.write(
          `pipeline: could not read the published index back for its platform digests: ${firstLine(err)}\n`,
        );
        return {} as Record<string, string>;
      });
      for (const entry of report.image.platforms) entry.digest = digests[entry.platform] ?? null;
    }
    report.published = published.refs;
    for (const ref of published.refs) process.stdout.write(`published ${ref}\n`);
    return "done";
  },
};
