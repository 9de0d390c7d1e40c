import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { z } from "zod";
import { tryDocker } from "../docker/docker.js";
import type { PipelineReport } from "../report/schema.js";
import type { RunStamp } from "../stages/result-cache.js";
import { keyDifferences, type RunKey } from "./key.js";

/** Bumped whenever the record's shape changes; older records are then simply not found. */
const FORMAT = 1;

const Record = z.object({
  format: z.literal(FORMAT),
  from: z.object({ run: z.string(), at: z.string() }),
  report: z.custom<PipelineReport>(
    (v) => typeof v === "object" && v !== null && (v as PipelineReport).ok === true,
  ),
  images: z.array(z.object({ ref: z.string(), id: z.string() })),
  files: z.array(z.string()),
  /** What the key was made of, to say why a later run was not replayed. */
  parts: z.record(z.string(), z.unknown()),
});
export type RunRecord = z.infer<typeof Record>;

/** The report's own files, written afresh by every run (and by a replay). */
const REPORT_FILES = new Set(["report.json", "report.md", "error.log"]);

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string, rel = ""): string[] {
  if (!existsSync(join(dir, rel))) return [];
  return readdirSync(join(dir, rel), { withFileTypes: true }).flatMap((entry) => {
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return filesUnder(dir, path);
    return entry.isFile() && !REPORT_FILES.has(path) ? [path] : [];
  });
}

const recordDir = (dir: string, key: string) => join(dir, "runs", key);

function readRecord(dir: string): RunRecord | undefined {
  try {
    return Record.parse(JSON.parse(readFileSync(join(dir, "record.json"), "utf8")));
  } catch {
    return undefined;
  }
}

/** The kept runs' directories under `runs`, newest first. */
function keptRuns(runs: string): string[] {
  if (!existsSync(runs)) return [];
  return readdirSync(runs)
    .filter((name) => /^[0-9a-f]{64}$/.test(name))
    .map((name) => ({ path: join(runs, name), at: statSync(join(runs, name)).mtimeMs }))
    .sort((a, b) => b.at - a.at)
    .map((run) => run.path);
}

/** The image name a key's parts were made for (`config.image.name`). */
const imageOf = (parts: Record<string, unknown>): unknown =>
  (parts.config as { image?: { name?: unknown } } | undefined)?.image?.name;

/** The most recently kept run of the same image, to compare a missed key with. */
function latestRecord(dir: string, parts: Record<string, unknown>): RunRecord | undefined {
  for (const path of keptRuns(join(dir, "runs"))) {
    const record = readRecord(path);
    if (record && imageOf(record.parts) === imageOf(parts)) return record;
  }
  return undefined;
}

/**
 * Keeps a run that passed under its key: its report, the files it wrote
 * beside the report (SARIF, SBOM, Trivy's JSON…), and the local images it
 * left in Docker by id. A run that did not pass is never kept.
 */
export function storeRun(opts: {
  dir: string;
  key: RunKey;
  from: RunStamp;
  report: PipelineReport;
  images: readonly { ref: string; id: string }[];
  reportDir: string;
}): void {
  if (!opts.report.ok || opts.report.error) return;
  const target = recordDir(opts.dir, opts.key.key);
  const tmp = `${target}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  const files = filesUnder(opts.reportDir);
  for (const file of files) {
    mkdirSync(dirname(join(tmp, "files", file)), { recursive: true });
    copyFileSync(join(opts.reportDir, file), join(tmp, "files", file));
  }
  mkdirSync(tmp, { recursive: true });
  const record: RunRecord = {
    format: FORMAT,
    from: opts.from,
    report: opts.report,
    images: [...opts.images],
    files,
    parts: opts.key.parts,
  };
  writeFileSync(join(tmp, "record.json"), JSON.stringify(record));
  rmSync(target, { recursive: true, force: true });
  renameSync(tmp, target);
  prune(join(opts.dir, "runs"));
}

/** How many kept runs stay on disk: the newest. */
const KEEP_RUNS = 10;

function prune(runs: string): void {
  for (const path of keptRuns(runs).slice(KEEP_RUNS))
    rmSync(path, { recursive: true, force: true });
}

/** Why a run could not be replayed, or the record it replays. */
export type Lookup = { record: RunRecord } | { miss: string };

/**
 * The record kept under `key`, its files copied back into `reportDir`, when
 * Docker still has every image it left, by the same id; otherwise why not.
 */
export async function lookupRun(opts: {
  dir: string;
  key: RunKey;
  reportDir: string;
}): Promise<Lookup> {
  const dir = recordDir(opts.dir, opts.key.key);
  const record = readRecord(dir);
  if (!record) {
    const latest = latestRecord(opts.dir, opts.key.parts);
    return {
      miss: latest
        ? `since ${latest.from.run}, changed: ${keyDifferences(latest.parts, opts.key.parts).join(", ")}`
        : "no run of this image has passed here yet",
    };
  }
  for (const image of record.images) {
    const id = (await tryDocker(["image", "inspect", "--format", "{{.Id}}", image.ref]))?.trim();
    if (id !== image.id)
      return { miss: `${image.ref} is ${id ? `now ${id.slice(7, 19)}` : "gone"} in Docker` };
  }
  for (const file of record.files)
    if (!existsSync(join(dir, "files", file))) return { miss: `its ${file} is gone` };
  for (const file of record.files) {
    const target = join(opts.reportDir, file);
    if (relative(opts.reportDir, target).startsWith("..")) continue;
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(dir, "files", file), target);
  }
  return { record };
}
