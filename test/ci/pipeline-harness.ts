import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { CHECK_IDS } from "../../ci/checks/index.js";
import type { PipelineReport } from "../../ci/report/report.js";
import { basicAuth } from "../../toolchain/registry-api.js";
import { readRegistryAuth } from "../../toolchain/steps/registry.js";
import { env, paths, repoRoot, runEntry } from "../toolchain/helpers.js";

export const auth = readRegistryAuth(paths);

export interface PipelineRun {
  exitCode: number;
  output: string;
  report: PipelineReport;
  repository: string;
  reportDir: string;
}

/** A Dockerfile variant written inside the build context (git-ignored), returned as a context-relative path. */
export function dockerfileVariant(name: string, edit: (text: string) => string): string {
  const dir = join(repoRoot, ".pipeline-test");
  mkdirSync(dir, { recursive: true });
  const original = readFileSync(join(repoRoot, "Dockerfile"), "utf8");
  const changed = edit(original);
  if (changed === original) throw new Error(`variant ${name} changed nothing`);
  writeFileSync(join(dir, `${name}.Dockerfile`), changed);
  return `.pipeline-test/${name}.Dockerfile`;
}

/**
 * Runs `npm run pipeline` exactly as a user would, publishing to a fresh
 * repository of the local registry (or of `registry`, given as `host:port`).
 */
export async function runPipeline(
  args: string[],
  extraEnv: NodeJS.ProcessEnv = {},
  registry?: string,
): Promise<PipelineRun> {
  if (!auth) throw new Error("the local registry's credentials are missing: run `npm run setup`");
  const id = randomBytes(3).toString("hex");
  const repository = `${registry ?? auth.address}/pipeline-e2e-${id}`;
  const reportDir = join(repoRoot, ".pipeline-test", `report-${id}`);
  const res = await runEntry(
    ["pipeline", ...args, "--repository", repository, "--report-dir", reportDir],
    { ...env, ...extraEnv },
  );
  let text: string;
  try {
    text = readFileSync(join(reportDir, "report.json"), "utf8");
  } catch {
    throw new Error(
      `the pipeline wrote no report (exit ${res.exitCode}):\n${String(res.all ?? "").slice(-3000)}`,
    );
  }
  const report = JSON.parse(text) as PipelineReport;
  return {
    exitCode: res.exitCode ?? -1,
    output: String(res.all ?? ""),
    report,
    repository,
    reportDir,
  };
}

/** Tags of a repository in the local authenticated registry ([] when it was never pushed). */
export async function registryTags(repository: string): Promise<string[]> {
  if (!auth) return [];
  const name = repository.slice(auth.address.length + 1);
  const res = await fetch(`http://${auth.address}/v2/${name}/tags/list`, {
    headers: {
      Authorization: basicAuth(auth),
    },
  });
  if (res.status === 404) return [];
  const body = (await res.json()) as { tags?: string[] | null };
  return body.tags ?? [];
}

export function check(run: PipelineRun, id: string) {
  const found = run.report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no ${id} check in the report:\n${run.output.slice(-3000)}`);
  return found;
}

/** `--skip` flags for every check but `keep`. */
export function skipAllBut(...keep: string[]): string[] {
  return CHECK_IDS.filter((id) => !keep.includes(id)).flatMap((id) => ["--skip", id]);
}

/** A gate tripped: exit 1, its own check failed, and nothing reached the registry. */
export async function expectTripped(run: PipelineRun, id: string) {
  expect(run.exitCode, run.output.slice(-3000)).toBe(1);
  const result = check(run, id);
  expect(result.status).toBe("failed");
  expect(await registryTags(run.repository)).toEqual([]);
  expect(run.report.published).toEqual([]);
  return result;
}
