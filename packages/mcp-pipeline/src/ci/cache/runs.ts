import { copyFileSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { z } from "zod";
import { tryDocker } from "../docker/docker.js";
import { keyDifferences, type RunKey } from "../replay/key.js";
import type { PipelineReport } from "../report/schema.js";
import { KeyedDir } from "./keyed-dir.js";
import type { RunStamp } from "./results.js";

/** Bumped whenever the record's shape changes; older records are then simply not found. */
const FORMAT = 2;

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

/** The kept runs, under `runs` in the results directory. */
const runsIn = (dir: string) => new KeyedDir(join(dir, "runs"), Record);

/** The image name a key's parts were made for (`config.image.name`). */
const imageOf = (parts: Record<string, unknown>): unknown =>
  (parts.config as { image?: { name?: unknown } } | undefined)?.image?.name;

/** The most recently kept run of the same image, to compare a missed key with. */
function latestRecord(dir: string, parts: Record<string, unknown>): RunRecord | undefined {
  for (const record of runsIn(dir).newestFirst())
    if (imageOf(record.parts) === imageOf(parts)) return record;
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
  const runs = runsIn(opts.dir);
  const files = filesUnder(opts.reportDir);
  const record: RunRecord = {
    format: FORMAT,
    from: opts.from,
    report: opts.report,
    images: [...opts.images],
    files,
    parts: opts.key.parts,
  };
  runs.write(opts.key.key, record, (dir) => {
    for (const file of files) {
      mkdirSync(dirname(join(dir, "files", file)), { recursive: true });
      copyFileSync(join(opts.reportDir, file), join(dir, "files", file));
    }
  });
  runs.prune(KEEP_RUNS);
}

/** How many kept runs stay on disk: the newest. */
const KEEP_RUNS = 10;

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
  const runs = runsIn(opts.dir);
  const dir = runs.dir(opts.key.key);
  const record = runs.read(opts.key.key);
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
