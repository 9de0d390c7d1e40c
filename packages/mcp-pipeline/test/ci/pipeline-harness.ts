import { randomBytes } from "node:crypto";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { execa } from "execa";
import { afterAll, expect } from "vitest";
import { type Document, parseDocument } from "yaml";
import { CHECK_IDS, SIGNATURE_CHECK_ID } from "../../src/ci/checks/index.js";
import { tryDocker } from "../../src/ci/docker/docker.js";
import type { PipelineReport } from "../../src/ci/report/schema.js";
import { basicAuth } from "../../src/host/registry-api.js";
import { readRegistryAuth } from "../../src/toolchain/state.js";
import { controlRunContext, env, paths, repoRoot, runEntry } from "../toolchain/helpers.js";

export const auth = readRegistryAuth(paths);

// Everything a test makes — build contexts, config and compose variants, reports — lives in one
// temporary directory per test file, never in the working tree. Registered here so every file
// that imports the harness cleans up after itself.
const scratch = mkdtempSync(join(tmpdir(), "pipeline-e2e-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A new directory under this file's scratch directory. */
export function scratchDir(name: string): string {
  const dir = join(scratch, `${name}-${randomBytes(3).toString("hex")}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface PipelineRun {
  exitCode: number;
  output: string;
  report: PipelineReport;
  repository: string;
  reportDir: string;
}

/** A `.dockerignore` pattern as a regular expression: `**` any path, `*` and `?` within one name, dotfiles included. */
function dockerPattern(pattern: string): RegExp {
  const source = pattern
    .replace(/^\/+|\/+$/g, "")
    .split(/(\*\*\/?|\*|\?)/)
    .map((part) => {
      if (part === "**/") return "(?:.*/)?";
      if (part === "**") return ".*";
      if (part === "*") return "[^/]*";
      if (part === "?") return "[^/]";
      return part.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    })
    .join("");
  // A pattern naming a directory covers everything in it, as in Docker.
  return new RegExp(`^${source}(?:/.*)?$`);
}

/** Whether `file` (relative, `/`-separated) is sent to the build under `.dockerignore`'s rules. */
function dockerIncludes(file: string, rules: readonly string[]): boolean {
  let included = true;
  for (const rule of rules) {
    const negated = rule.startsWith("!");
    if (dockerPattern(negated ? rule.slice(1) : rule).test(file)) included = negated;
  }
  return included;
}

/** Every file under `root`, relative to it; dependencies and git's own files left out. */
function filesUnder(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      return entry.name === "node_modules" || entry.name === ".git" ? [] : filesUnder(root, path);
    return entry.isFile() ? [relative(root, path)] : [];
  });
}

/**
 * A copy of the build context as Docker would send it (`.dockerignore`'s rules applied, the file
 * itself kept) in a temporary directory, with the Dockerfile changed by `edit` and each file of
 * `sources` (a path relative to the repository) changed by its function. Every edit must change
 * what it edits. Returns the pipeline arguments that build it: `--context <dir>`.
 */
export function contextVariant(
  name: string,
  edit: (dockerfile: string) => string,
  sources: Readonly<Record<string, (text: string) => string>> = {},
): string[] {
  const original = readFileSync(join(repoRoot, "Dockerfile"), "utf8");
  const changed = edit(original);
  if (changed === original && Object.keys(sources).length === 0)
    throw new Error(`variant ${name} changed nothing`);
  const rules = readFileSync(join(repoRoot, ".dockerignore"), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const dir = scratchDir(`${name}-context`);
  const files = filesUnder(repoRoot).filter((file) => dockerIncludes(file, rules));
  for (const file of [...files, ".dockerignore"]) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(repoRoot, file), join(dir, file));
  }
  writeFileSync(join(dir, "Dockerfile"), changed);
  for (const [file, editSource] of Object.entries(sources)) {
    const text = readFileSync(join(repoRoot, file), "utf8");
    const edited = editSource(text);
    if (edited === text) throw new Error(`variant ${name} changed nothing in ${file}`);
    writeFileSync(join(dir, file), edited);
  }
  return ["--context", dir];
}

/** Edits a YAML document of the repository (`file`) and writes the result to the scratch directory. */
function yamlVariant(file: string, name: string, edit: (doc: Document) => void): string {
  const doc = parseDocument(readFileSync(join(repoRoot, file), "utf8"));
  edit(doc);
  const out = join(scratchDir(name), file);
  writeFileSync(out, doc.toString());
  return out;
}

/**
 * The repository's pipeline.config.yaml changed by `edit`, written to a temporary file. Returns the
 * pipeline arguments that use it: `--config <file>`.
 */
export function configVariant(name: string, edit: (doc: Document) => void): string[] {
  return ["--config", yamlVariant("pipeline.config.yaml", name, edit)];
}

/**
 * The repository's docker-compose.yml changed by `edit`, written to a temporary directory (its
 * builds still use the repository as their context). Returns the file's absolute path.
 */
export function composeVariant(name: string, edit: (doc: Document) => void): string {
  return yamlVariant("docker-compose.yml", name, (doc) => {
    for (const service of ["backend", "mcp-server"]) {
      doc.setIn(["services", service, "build", "context"], repoRoot);
    }
    edit(doc);
  });
}

/** Containers (running or not) made from `image`; the pipeline must leave none behind. */
async function containersOf(image: string): Promise<string[]> {
  const out = await tryDocker(["ps", "-a", "-q", "--filter", `ancestor=${image}`]);
  return (out ?? "").split("\n").filter(Boolean);
}

/**
 * Runs `mcp-pipeline` exactly as a user would, publishing to a fresh
 * repository of the local registry (or of `registry`, given as `host:port`).
 * The built image gets a name of its own (other runs on the machine build
 * `todo-mcp:pipeline` too) unless `args` name one (the caller then owns it),
 * the report goes to a temporary directory, and afterwards no container of the
 * image may be left; an image named here is removed.
 */
export async function runPipeline(
  args: string[],
  extraEnv: NodeJS.ProcessEnv = {},
  registry?: string,
): Promise<PipelineRun> {
  if (!auth)
    throw new Error("the local registry's credentials are missing: run `mcp-pipeline setup`");
  const id = randomBytes(3).toString("hex");
  // The local registry outlives test runs: a name drawn from 3 bytes met a repository an
  // earlier run had pushed (its tag turned up among the control's). 8 bytes, and a check.
  const repository = `${registry ?? auth.address}/pipeline-e2e-${randomBytes(8).toString("hex")}`;
  if (!registry && (await registryTags(repository)).length > 0)
    throw new Error(`${repository} already holds tags: a fresh repository was expected`);
  const named = args.lastIndexOf("--image");
  const image = (named >= 0 ? args[named + 1] : undefined) ?? `pipeline-e2e-${id}`;
  const reportDir = join(scratch, `report-${id}`);
  const res = await runEntry(
    [
      "pipeline",
      ...args,
      ...(named >= 0 ? [] : ["--image", `pipeline-e2e-${id}`]),
      "--repository",
      repository,
      "--report-dir",
      reportDir,
    ],
    { ...env, ...(await controlRunContext()), ...extraEnv },
  );
  const output = String(res.all ?? "");
  const leftovers = await containersOf(`${image}:pipeline`);
  // Every tag of the name: `:pipeline`, and `:pipeline-<os>-<arch>` for each other platform.
  if (named < 0) {
    const tags = await tryDocker(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}", image]);
    for (const tag of (tags ?? "").split("\n").filter(Boolean)) {
      await tryDocker(["image", "rm", tag]);
    }
  }
  expect(leftovers, `containers of ${image}:pipeline were left behind`).toEqual([]);
  let text: string;
  try {
    text = readFileSync(join(reportDir, "report.json"), "utf8");
  } catch {
    throw new Error(`the pipeline wrote no report (exit ${res.exitCode}):\n${output.slice(-3000)}`);
  }
  return {
    exitCode: res.exitCode ?? -1,
    output,
    report: JSON.parse(text) as PipelineReport,
    repository,
    reportDir,
  };
}

/**
 * Tags of a repository in the local authenticated registry ([] when it was never pushed).
 * Any other answer than the tag list or "unknown repository" throws, so a registry that
 * refuses the read can never pass for an empty one.
 */
export async function registryTags(repository: string): Promise<string[]> {
  if (!auth)
    throw new Error("the local registry's credentials are missing: run `mcp-pipeline setup`");
  const name = repository.slice(auth.address.length + 1);
  const res = await fetch(`http://${auth.address}/v2/${name}/tags/list`, {
    headers: { Authorization: basicAuth(auth) },
  });
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`GET /v2/${name}/tags/list answered ${res.status}`);
  const body = (await res.json()) as { tags?: string[] | null };
  return body.tags ?? [];
}

export function check(run: PipelineRun, id: string) {
  const found = run.report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no ${id} check in the report:\n${run.output.slice(-3000)}`);
  return found;
}

/**
 * `--skip` flags for every image check but `keep`. The signature gate is left to each run's
 * signing settings: the harness publishes unsigned unless a test signs (see the note below).
 */
export function skipAllBut(...keep: string[]): string[] {
  return CHECK_IDS.filter((id) => id !== SIGNATURE_CHECK_ID && !keep.includes(id)).flatMap((id) => [
    "--skip",
    id,
  ]);
}

/** A run published: exit 0, and every tag it reports is in the registry. */
export async function expectPublished(run: PipelineRun): Promise<void> {
  expect(run.exitCode, run.output.slice(-3000)).toBe(0);
  const tags = run.report.published.map(
    (ref) => ref.slice(run.repository.length + 1).split("@")[0],
  );
  expect(tags.length).toBeGreaterThan(0);
  expect((await registryTags(run.repository)).sort()).toEqual(tags.sort());
}

// The gates check the linux/amd64 image (multiplatform.e2e.test.ts covers building the others),
// and what is published is not signed (test/ci/sign covers signing): gate runs stay short, and a
// control's registry holds exactly the tags it published.
const GATE_ENV: NodeJS.ProcessEnv = { PIPELINE_PLATFORMS: "linux/amd64" };
const GATE_ARGS = ["--no-sign"];

/**
 * The gate tests of one describe block: every run is `[--no-sign, ...base, ...variant]` (so a
 * variant's `--config` wins over one in `base`), and one control run without the variant, shared
 * by the block, must publish. A tripped gate's "nothing was published" means something only next to a run with
 * the same arguments that did publish.
 */
export function gateRuns(base: readonly string[], baseEnv: NodeJS.ProcessEnv = GATE_ENV) {
  let control: Promise<PipelineRun> | undefined;
  const runControl = () => {
    control ??= runPipeline([...GATE_ARGS, ...base], baseEnv);
    return control;
  };
  /** The control: the same arguments without a variant publish. */
  const expectControlPublishes = async (): Promise<PipelineRun> => {
    const run = await runControl();
    await expectPublished(run);
    return run;
  };
  return {
    run: (variant: readonly string[], extraEnv: NodeJS.ProcessEnv = {}) =>
      runPipeline([...GATE_ARGS, ...base, ...variant], { ...baseEnv, ...extraEnv }),
    expectControlPublishes,
    /** A gate tripped: exit 1, its own check failed, and nothing reached the registry — unlike the control. */
    async expectTripped(run: PipelineRun, id: string) {
      expect(run.exitCode, run.output.slice(-3000)).toBe(1);
      const result = check(run, id);
      expect(result.status, result.summary).toBe("failed");
      expect(await registryTags(run.repository)).toEqual([]);
      expect(run.report.published).toEqual([]);
      await expectControlPublishes();
      return result;
    },
  };
}

/** Everything `git status` sees in the working tree, ignored files included. */
export async function workingTreeStatus(): Promise<string> {
  const res = await execa("git", ["status", "--porcelain", "--ignored"], {
    cwd: repoRoot,
  });
  return res.stdout;
}
