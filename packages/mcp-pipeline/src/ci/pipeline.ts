import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { connection, ExecError, GraphQLRequestError } from "@dagger.io/dagger";
import { emulationStatus } from "../host/emulation.js";
import { archOf } from "../host/platforms.js";
import { ProgressLine } from "../host/progress.js";
import { formatDuration } from "../host/terminal.js";
import { type CheckResult, describeError } from "./checks/check.js";
import { mcpContract, updateContract } from "./checks/mcp-contract.js";
import { composeTarget, STACK_CHECKS } from "./checks/stack.js";
import { resolveRunEnv } from "./config/run-env.js";
import { BuildError, InternalError, PipelineError, PublishError } from "./errors.js";
import { previousRelease, sourceUrl } from "./git/context.js";
import { runFacts } from "./git/run-facts.js";
import { publishTarget } from "./registry/target.js";
import { replayable, runKey } from "./replay/key.js";
import { storeRun } from "./replay/record.js";
import { redact } from "./report/redact.js";
import { appendStepSummary, writeReport } from "./report/report.js";
import type { PipelineReport, ReportError, StageSummary } from "./report/schema.js";
import { renderTerminalSummary } from "./report/terminal.js";
import type { PipelineRequest } from "./request.js";
import { build } from "./stages/build.js";
import { buildErrorFrom } from "./stages/build-failure.js";
import { platformDigests, publish } from "./stages/publish.js";
import { codeFingerprint, ResultCache } from "./stages/result-cache.js";
import { baseImageDigests, signAndVerify, signingPlan } from "./stages/sign.js";
import { verify } from "./stages/verify.js";

/** Whether cosign must speak plain HTTP to a registry: the local ones and loopback. */
export function isPlainHttp(address: string, localRegistry: string | undefined): boolean {
  const host = address.split(":")[0] ?? "";
  return (
    address === localRegistry ||
    host === "localhost" ||
    /^127\./.test(host) ||
    host === "172.17.0.1"
  );
}

export interface PipelineOutcome {
  report: PipelineReport;
  /** True when every gate that ran passed (skipped ones do not count against it). */
  passed: boolean;
}

/** Fails before anything is built when a check that will run cannot be configured. */
function preflight(req: PipelineRequest): void {
  if (STACK_CHECKS.some((id) => !req.skip.includes(id))) composeTarget(req.config, req.cwd);
}

/**
 * The pipeline: build → verify → publish, then the report (`report.json`,
 * `report.md`, the step summary, the terminal table), written whatever
 * happened. Gates decide `passed`; a build, publish or unexpected failure is
 * thrown after the report is written, with the report's `error` saying what
 * stopped the run.
 */
export async function runPipeline(req: PipelineRequest): Promise<PipelineOutcome> {
  const started = Date.now();
  const { config, environment: env, cwd } = req;
  const facts = await runFacts(cwd, config, env);
  const { git, computed, labels } = facts;
  preflight(req);
  const wantPublish = (req.stage === "all" || req.stage === "publish") && req.publish;
  const target = wantPublish && computed.publish ? publishTarget(config, env) : undefined;
  const runEnv = resolveRunEnv(config.image.runEnv);
  const secrets = [
    ...runEnv.secrets,
    ...(target ? [target.password] : []),
    ...(env.registryPassword ? [env.registryPassword] : []),
  ];
  const stamp = { run: env.runId, at: new Date(started).toISOString() };
  // Worked out while the image builds; a run that passes is kept under it for `replay.ts`.
  const replayKey = replayable(req, computed)
    ? runKey({
        stage: req.stage,
        skip: req.skip,
        config,
        cwd,
        labels,
        offline: env.offline,
        ci: env.ci,
        npmCaFile: env.npmCaFile,
        registryHosts: env.registryHosts,
      }).catch(() => undefined)
    : undefined;
  let builtImages: { ref: string; id: string }[] = [];
  const workDir = mkdtempSync(join(tmpdir(), "pipeline-"));
  const stages: StageSummary[] = [];
  const report: PipelineReport = {
    ok: false,
    image: {
      ref: `${config.image.name}:pipeline`,
      digest: null,
      sizeBytes: null,
      compressedBytes: null,
    },
    checks: [],
    published: [],
    error: null,
  };
  const runStage = async <T>(
    name: string,
    fn: (progress: ProgressLine) => Promise<T>,
    statusOf: (result: T) => string = () => "done",
  ): Promise<T> => {
    const progress = new ProgressLine(`[${name}]`);
    try {
      const result = await fn(progress);
      const status = statusOf(result);
      stages.push({ name, status, durationMs: progress.finish(status) });
      return result;
    } catch (err) {
      stages.push({ name, status: "error", durationMs: progress.finish("ERROR") });
      throw err;
    }
  };

  let failure: unknown;
  try {
    process.stderr.write(
      `pipeline: ${req.stage} · ${git.ref} @ ${git.sha.slice(0, 7)} · tags ${computed.tags.join(", ")}${computed.publish ? "" : " (not published for this ref)"}\n`,
    );
    // The build args the labels travel as, recorded in the provenance.
    const labelArgs = {
      VERSION: labels.version,
      REVISION: labels.revision,
      CREATED: labels.created,
      SOURCE: labels.source,
    };
    await connection(async () => {
      const built = await runStage("build", async (p) => {
        p.update(
          `dockerBuild ${config.image.dockerfile}${config.image.target ? ` --target ${config.image.target}` : ""}`,
        );
        try {
          return await build({
            cwd,
            config,
            labels,
            npmCaFile: env.npmCaFile,
            workDir,
            traceLog: env.traceLog,
          });
        } catch (err) {
          // The engine refusing the Dockerfile, or one of its steps failing, is the build's
          // fault; anything else (the Docker CLI, the engine connection) is not.
          throw err instanceof ExecError || err instanceof GraphQLRequestError
            ? await buildErrorFrom(err, env.traceLog)
            : err;
        }
      });
      builtImages = built.images.map((image) => ({ ref: image.localRef, id: image.facts.id }));
      report.image.sizeBytes = built.facts.sizeBytes;
      report.image.compressedBytes = built.facts.compressedBytes;
      if (req.stage === "build") return;

      const release =
        computed.kind === "release" || computed.kind === "prerelease"
          ? { version: computed.version, previous: await previousRelease(cwd, computed.version) }
          : undefined;
      report.image.platforms = built.images.map((image) => ({
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
          runEnv: runEnv.env,
          offline: env.offline,
          ci: env.ci,
          release,
        })),
      );
      report.checks = await runStage(
        req.stage === "contract" ? "contract" : "verify",
        (p) =>
          verify(contexts, {
            skip: req.skip,
            cache: {
              results: new ResultCache({
                dir: env.resultsDir,
                stamp,
                read: req.useCache !== false && req.stage !== "contract",
                reportDir: config.reportDir,
              }),
              pipeline: codeFingerprint(),
            },
            ...(req.stage === "contract"
              ? { checks: [req.updateContract ? updateContract : mcpContract] }
              : {}),
            onStart: (id) => p.update(`${id} started`),
            onResult: (c: CheckResult) =>
              p.update(
                c.cached
                  ? `${c.id} ${c.status} (cached from ${c.cached.run})`
                  : `${c.id} ${c.status} in ${formatDuration(c.durationMs)}`,
              ),
          }),
        (checks) => (checks.some((c) => c.status === "failed") ? "gate failed" : "passed"),
      );
      if (report.checks.some((c) => c.status === "failed")) {
        if (wantPublish) process.stderr.write("pipeline: a gate failed, so nothing is published\n");
        return;
      }
      if (req.stage === "verify" || req.stage === "contract" || !wantPublish) return;
      if (!target) {
        process.stderr.write(
          `pipeline: ${git.ref} is not published (${computed.kind}); tags would be ${computed.tags.join(", ")}\n`,
        );
        return;
      }
      const published = await runStage("publish", (p) => {
        p.update(`${target.repository} ← ${computed.tags.join(", ")}`);
        const variants = built.platforms
          .filter((image) => image.platform !== built.platform)
          .map((image) => image.container);
        return publish(built.container, target, computed.tags, variants).catch((err: unknown) => {
          throw new PublishError(
            `publishing to ${target.repository} failed: ${firstLine(err)}. Check the registry address and that REGISTRY_USERNAME / REGISTRY_PASSWORD may push there.`,
            { cause: err },
          );
        });
      });
      report.image.ref = `${target.repository}:${computed.tags[0]}`;
      report.image.digest = published.digest;
      if (built.images.length > 1 && report.image.platforms) {
        const digests = await platformDigests(
          target,
          published.digest,
          isPlainHttp(target.address, env.localRegistry?.address),
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

      const plan = await signingPlan({
        enabled: config.sign.enabled && req.sign !== false,
        signing: env.signing,
        localTarget: target.address === env.localRegistry?.address,
        offline: env.offline,
        reportDir: config.reportDir,
      });
      if ("skip" in plan) {
        report.checks.push({
          id: "signature",
          status: "skipped",
          summary: plan.skip,
          details: [],
          durationMs: 0,
        });
        return;
      }
      const signStarted = Date.now();
      const signed = await runStage(
        "sign",
        async (p) => {
          p.update(`cosign sign and attest ${target.repository}@${published.digest}`);
          const source = await sourceUrl(cwd, env.githubRepositoryUrl);
          const repository = source === "unknown" ? pathToFileURL(cwd).href : source;
          return signAndVerify({
            ref: `${target.repository}@${published.digest}`,
            plan,
            target,
            plainHttp: isPlainHttp(target.address, env.localRegistry?.address),
            index: built.platforms.length > 1,
            sbomFile: join(config.reportDir, "sbom.cdx.json"),
            reportDir: config.reportDir,
            env: env.signing.cosignEnv,
            provenance: {
              pipeline: { uri: `${repository}/ci`, version: codeFingerprint().slice(0, 12) },
              toolVersions: env.toolVersions,
              source: { repository, ref: git.ref, revision: git.sha },
              build: {
                dockerfile: config.image.dockerfile,
                context: config.image.context,
                target: config.image.target,
                args: { ...config.image.buildArgs, ...labelArgs },
                secretNames: env.npmCaFile ? ["npm_ca"] : [],
              },
              baseImages: await baseImageDigests(
                readFileSync(resolve(cwd, config.image.context, config.image.dockerfile), "utf8"),
                config.image.buildArgs,
              ),
              invocationId: env.runId,
              startedOn: new Date(started),
              finishedOn: new Date(),
              secretValues: secrets,
            },
          });
        },
        (outcome) => outcome.check.status,
      );
      report.checks.push({
        id: "signature",
        ...signed.check,
        durationMs: Date.now() - signStarted,
      });
      report.signatures = signed.signatures;
      report.attestations = signed.attestations;
      report.verify = signed.verify;
    });
  } catch (err) {
    failure = err;
    if (!(err instanceof PipelineError)) {
      // Unexpected: the whole chain goes to a file, one line to the person.
      const logFile = join(config.reportDir, "error.log");
      try {
        mkdirSync(config.reportDir, { recursive: true });
        writeFileSync(
          logFile,
          `${redact(describeError(err).join("\n"), secrets)}\n\n${redact(String((err as Error)?.stack ?? ""), secrets)}\n`,
        );
      } catch {
        // The report write below says what is wrong with the directory.
      }
      failure = new InternalError(redact(firstLine(err), secrets), logFile, { cause: err });
    }
    report.error = reportError(failure);
  } finally {
    report.ok = failure === undefined && !report.checks.some((c) => c.status === "failed");
    const written = await writeReport(config.reportDir, report, {
      durationMs: Date.now() - started,
      stages,
      secrets,
    });
    await appendStepSummary(written.markdown, env.stepSummaryFile);
    const key = report.ok && failure === undefined ? await replayKey : undefined;
    if (key) {
      try {
        storeRun({
          dir: env.resultsDir,
          key,
          from: stamp,
          // As written: redacted.
          report: JSON.parse(readFileSync(written.jsonPath, "utf8")) as PipelineReport,
          images: builtImages,
          reportDir: config.reportDir,
        });
      } catch (err) {
        process.stderr.write(`pipeline: could not keep this run for replay: ${firstLine(err)}\n`);
      }
    }
    const summary = `${redact(renderTerminalSummary(report, stages, env.summary?.color ?? process.stderr), secrets)}\nreport: ${written.jsonPath}\n`;
    // `mcp-pipeline` prints it once Dagger has finished, so it is the last thing shown.
    if (env.summary) writeFileSync(env.summary.file, summary);
    else process.stderr.write(`\n${summary}`);
    rmSync(workDir, { recursive: true, force: true });
  }
  if (failure !== undefined) throw failure;
  return { report, passed: report.ok };
}

function reportError(err: unknown): ReportError {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof BuildError) return { kind: "build", message };
  if (err instanceof InternalError)
    return { kind: "internal", message: `${message} (full error in ${err.logFile})` };
  if (err instanceof PublishError) return { kind: "publish", message };
  return { kind: "configuration", message };
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n").find((line) => line.trim() !== "") ?? "unknown error";
}
