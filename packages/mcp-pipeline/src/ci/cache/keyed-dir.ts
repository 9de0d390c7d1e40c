import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { z } from "zod";

/** A key: a sha256 in hex, the only names a keyed directory holds entries under. */
const KEY = /^[0-9a-f]{64}$/;

/**
 * Entries kept on disk by key, each a directory holding `entry.json` and the files written with
 * it. An entry appears whole or not at all: it is filled in a temporary directory beside its
 * place and renamed there. An entry that cannot be read as `schema` is missing, never an error:
 * a cache only ever speeds a run up.
 */
export class KeyedDir<T> {
  readonly #root: string;
  readonly #schema: z.ZodType<T>;

  constructor(root: string, schema: z.ZodType<T>) {
    this.#root = root;
    this.#schema = schema;
  }

  /** Where an entry's files live. */
  dir(key: string): string {
    return join(this.#root, key);
  }

  /** The entry under `key`, or undefined when there is none (or it is unreadable). */
  read(key: string): T | undefined {
    try {
      return this.#schema.parse(
        JSON.parse(readFileSync(join(this.dir(key), "entry.json"), "utf8")),
      );
    } catch {
      return undefined;
    }
  }

  /**
   * Replaces the entry under `key`: `fill` copies its files into the directory it is given,
   * then `entry` is written beside them and the whole directory takes the entry's place.
   */
  write(key: string, entry: T, fill: (dir: string) => void = () => {}): void {
    if (!KEY.test(key)) throw new Error(`not a cache key: ${key}`);
    const tmp = `${this.dir(key)}.${process.pid}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    fill(tmp);
    writeFileSync(join(tmp, "entry.json"), JSON.stringify(entry));
    rmSync(this.dir(key), { recursive: true, force: true });
    renameSync(tmp, this.dir(key));
  }

  /** Every readable entry, newest first. */
  *newestFirst(): Generator<T> {
    for (const key of this.#keysNewestFirst()) {
      const entry = this.read(key);
      if (entry !== undefined) yield entry;
    }
  }

  /** Removes all but the `keep` newest entries. */
  prune(keep: number): void {
    for (const key of this.#keysNewestFirst().slice(keep))
      rmSync(this.dir(key), { recursive: true, force: true });
  }

  #keysNewestFirst(): string[] {
    if (!existsSync(this.#root)) return [];
    return readdirSync(this.#root)
      .filter((name) => KEY.test(name))
      .map((key) => ({ key, at: statSync(this.dir(key)).mtimeMs }))
      .sort((a, b) => b.at - a.at)
      .map((entry) => entry.key);
  }
}
