import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { KeyedDir } from "../../../src/ci/cache/keyed-dir.js";

const Entry = z.object({ n: z.number() });
const key = (c: string) => c.repeat(64);

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "keyed-dir-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("KeyedDir", () => {
  it("reads back what it wrote, with the files filled in beside the entry", () => {
    const dir = new KeyedDir(root, Entry);
    dir.write(key("a"), { n: 1 }, (tmp) => writeFileSync(join(tmp, "kept.txt"), "x"));
    expect(dir.read(key("a"))).toEqual({ n: 1 });
    expect(existsSync(join(dir.dir(key("a")), "kept.txt"))).toBe(true);
    expect(readdirSync(root)).toEqual([key("a")]);
  });

  it("replaces an entry whole: files of the old one do not survive", () => {
    const dir = new KeyedDir(root, Entry);
    dir.write(key("a"), { n: 1 }, (tmp) => writeFileSync(join(tmp, "old.txt"), "x"));
    dir.write(key("a"), { n: 2 });
    expect(dir.read(key("a"))).toEqual({ n: 2 });
    expect(existsSync(join(dir.dir(key("a")), "old.txt"))).toBe(false);
  });

  it("treats a missing, unparsable or wrong-shaped entry as absent", () => {
    const dir = new KeyedDir(root, Entry);
    expect(dir.read(key("b"))).toBeUndefined();
    dir.write(key("b"), { n: 1 });
    writeFileSync(join(dir.dir(key("b")), "entry.json"), "{not json");
    expect(dir.read(key("b"))).toBeUndefined();
    writeFileSync(join(dir.dir(key("b")), "entry.json"), JSON.stringify({ n: "one" }));
    expect(dir.read(key("b"))).toBeUndefined();
  });

  it("refuses a key that is not a sha256, so nothing is written outside its root", () => {
    const dir = new KeyedDir(root, Entry);
    expect(() => dir.write("../escape", { n: 1 })).toThrow(/not a cache key/);
    expect(readdirSync(root)).toEqual([]);
  });

  it("lists entries newest first and prunes all but the newest", () => {
    const dir = new KeyedDir(root, Entry);
    for (const [i, c] of ["a", "b", "c"].entries()) {
      dir.write(key(c), { n: i });
      const at = new Date(Date.UTC(2026, 0, 1 + i));
      utimesSync(dir.dir(key(c)), at, at);
    }
    expect([...dir.newestFirst()].map((e) => e.n)).toEqual([2, 1, 0]);
    dir.prune(2);
    expect(readdirSync(root).sort()).toEqual([key("b"), key("c")]);
  });
});
