import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { z } from "zod";
import { CODE_DIR, PACKAGE_ROOT } from "../../package-root.js";
import type { CheckResult } from "../checks/check.js";
import { KeyedDir } from "./keyed-dir.js";

/** What a run is called in cached results: its id and when it started. */
export interface RunStamp {
  run: string;
  at: string;
}

const Entry = z.object({
  result: z.custom<CheckResult>((v) => typeof v === "object" && v !== null),
  from: z.object({ run: z.string(), at: z.string() }),
  files: z.array(z.string()),
});

/** sha256 of a file's content, or "absent": an input of a check's result. */
export function fileHash(file: string): string {
  return existsSync(file)
    ? createHash("sha256").update(readFileSync(file)).digest("hex")
    : "absent";
}

/** sha256 of every source file (TypeScript or JavaScript) under `root`, by path and content. */
export function pipelineFingerprint(root: string): string {
  const hash = createHash("sha256");
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|js|mjs)$/.test(entry.name))
        hash.update(path.slice(root.length)).update(readFileSync(path));
    }
  };
  walk(root);
  return hash.digest("hex");
}

/**
 * The code every gate runs: the whole package (the pipeline, the toolchain it calls, the host
 * utilities both use) and its manifest, which pins its dependencies. Any change re-runs every
 * check instead of reusing an old verdict.
 */
export function codeFingerprint(): string {
  return createHash("sha256")
    .update(pipelineFingerprint(CODE_DIR))
    .update(fileHash(join(PACKAGE_ROOT, "package.json")))
    .digest("hex");
}

/** The key of a check's result: the check, the image, the pipeline's code and the check's own inputs. */
export function resultKey(parts: {
  check: string;
  image: string;
  pipeline: string;
  inputs: unknown;
}): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}

/**
 * Results of checks that did not fail, kept on disk by key with the files
 * they wrote, so a re-run with unchanged inputs reuses them (marked `cached`,
 * naming the run they came from). Failed results are never kept.
 */
export class ResultCache {
  readonly #entries: KeyedDir<z.infer<typeof Entry>>;
  readonly #stamp: RunStamp;
  /** False with `--no-cache`: nothing is read, fresh results are still kept. */
  readonly #read: boolean;
  /** Where this run's report files go; kept files are stored relative to it. */
  readonly #reportDir: string;

  constructor(opts: { dir: string; stamp: RunStamp; read: boolean; reportDir: string }) {
    this.#entries = new KeyedDir(opts.dir, Entry);
    this.#stamp = opts.stamp;
    this.#read = opts.read;
    this.#reportDir = opts.reportDir;
  }

  /** The cached result for `key`, its files copied back to where they were written; undefined on a miss. */
  lookup(key: string): CheckResult | undefined {
    if (!this.#read) return undefined;
    const entry = this.#entries.read(key);
    if (!entry) return undefined;
    const kept = entry.files.map((file, i) =>
      join(this.#entries.dir(key), "files", `${i}-${basename(file)}`),
    );
    if (!kept.every((file) => existsSync(file))) return undefined;
    for (const [i, file] of entry.files.entries()) {
      const target = resolve(this.#reportDir, file);
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(kept[i] as string, target);
    }
    return { ...entry.result, cached: entry.from };
  }

  /**
   * Keeps a passed result, or one the check itself skipped (air-gapped without a vulnerability
   * database, say), and copies of its files under the report directory. A failed result is
   * never kept.
   */
  store(key: string, result: CheckResult, files: readonly string[] = []): void {
    if (result.status === "failed") return;
    if (files.some((f) => relative(this.#reportDir, f).startsWith(".."))) return;
    const entry = {
      result,
      from: this.#stamp,
      files: files.map((f) => relative(this.#reportDir, f)),
    };
    this.#entries.write(key, entry, (dir) => {
      mkdirSync(join(dir, "files"));
      for (const [i, file] of files.entries())
        copyFileSync(file, join(dir, "files", `${i}-${basename(file)}`));
    });
  }
}
