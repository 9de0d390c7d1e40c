import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { codeFingerprint } from "../cache/results.js";
import { SIGNATURE_CHECK_ID } from "../checks/index.js";
import { sourceUrl } from "../git/context.js";
import type { ProvenanceInput } from "../sign/provenance.js";
import { baseImageDigests, signAndVerify, signingPlan } from "../stages/sign.js";
import type { Stage } from "./run.js";
import { isPlainHttp, type Run } from "./run.js";

/** What the SLSA provenance of the published image says: how, from what and by what it was built. */
async function provenanceOf(run: Run, finishedOn: Date): Promise<ProvenanceInput> {
  const { config, cwd, environment: env } = run.req;
  const source = await sourceUrl(cwd, env.githubRepositoryUrl);
  const repository = source === "unknown" ? pathToFileURL(cwd).href : source;
  const { labels, git } = run.facts;
  return {
    pipeline: { uri: `${repository}/ci`, version: codeFingerprint().slice(0, 12) },
    toolVersions: env.toolVersions,
    source: { repository, ref: git.ref, revision: git.sha },
    build: {
      dockerfile: config.image.dockerfile,
      context: config.image.context,
      target: config.image.target,
      // The build args the labels travel as.
      args: {
        ...config.image.buildArgs,
        VERSION: labels.version,
        REVISION: labels.revision,
        CREATED: labels.created,
        SOURCE: labels.source,
      },
      secretNames: env.npmCaFile ? ["npm_ca"] : [],
    },
    baseImages: await baseImageDigests(
      readFileSync(resolve(cwd, config.image.context, config.image.dockerfile), "utf8"),
      config.image.buildArgs,
    ),
    invocationId: env.runId,
    startedOn: new Date(run.started),
    finishedOn,
    secretValues: run.secrets,
  };
}

/**
 * `sign`: after publish, cosign signs the published digest and attests the SBOM and the SLSA
 * provenance, then the `signature` gate verifies all of them. Without a way to sign, or with
 * `--skip signature`, the gate is skipped and says why.
 */
export const signStage: Stage = {
  name: () => "sign",
  skip: (run) => (run.published ? false : ""),
  async run(run, progress) {
    const { config, environment: env } = run.req;
    const { target, published, built } = run;
    if (!target || !published || !built) throw new Error("sign needs a published image");
    const started = Date.now();
    const skipped = (summary: string) => {
      run.report.checks.push({
        id: SIGNATURE_CHECK_ID,
        status: "skipped",
        summary,
        details: [],
        durationMs: 0,
      });
      return "skipped" as const;
    };
    if (run.req.skip.includes(SIGNATURE_CHECK_ID))
      return skipped("skipped on request (--skip): the published image is not signed");
    const plan = await signingPlan({
      enabled: config.sign.enabled && run.req.sign !== false,
      signing: env.signing,
      localTarget: target.address === env.localRegistry?.address,
      offline: env.offline,
      reportDir: config.reportDir,
      rekor: {
        url: config.sign.rekorUrl,
        publicKey: config.sign.rekorPublicKey
          ? resolve(run.req.cwd, config.sign.rekorPublicKey)
          : env.signing.rekorPublicKey,
      },
    });
    if ("skip" in plan) return skipped(plan.skip);
    const ref = `${target.repository}@${published.digest}`;
    progress.update(`cosign sign and attest ${ref}`);
    const signed = await signAndVerify({
      ref,
      plan,
      target,
      plainHttp: isPlainHttp(target.address, env.localRegistry?.address),
      index: built.platforms.length > 1,
      sbomFile: join(config.reportDir, "sbom.cdx.json"),
      reportDir: config.reportDir,
      env: env.signing.cosignEnv,
      provenance: await provenanceOf(run, new Date()),
    });
    run.report.checks.push({
      id: SIGNATURE_CHECK_ID,
      ...signed.check,
      durationMs: Date.now() - started,
    });
    run.report.signatures = signed.signatures;
    run.report.attestations = signed.attestations;
    run.report.verify = signed.verify;
    return signed.check.status;
  },
};
