import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../../toolchain/compile.mjs";
import { repoRoot } from "./helpers.js";

// Inside the repository, as real entry points are: the bundle resolves packages
// from its node_modules. Removed afterwards; nothing of it is committed. A fresh
// `npm ci` makes no `node_modules/.cache`, so the test makes it.
const cacheDir = join(repoRoot, "node_modules", ".cache");
mkdirSync(cacheDir, { recursive: true });
const root = mkdtempSync(join(cacheDir, "compile-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function source(path: string, text: string): string {
  const file = join(root, path);
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, text);
  return file;
}

const bundles = () => readdirSync(join(root, "node_modules", ".cache", "mcp-pipeline")).sort();

describe("compile: a TypeScript entry point bundled for plain Node", () => {
  it("runs on Node with types stripped, packages from node_modules, and every module's own import.meta.url", async () => {
    source(
      "tool/deep/where.ts",
      'import { fileURLToPath } from "node:url";\nexport const where: string = fileURLToPath(import.meta.url);\n',
    );
    const entry = source(
      "tool/main.ts",
      [
        'import { fileURLToPath } from "node:url";',
        'import { parse } from "yaml";',
        'import { where } from "./deep/where.js";',
        "const self: string = fileURLToPath(import.meta.url);",
        'console.log(JSON.stringify({ self, where, parsed: parse("a: 1") }));',
      ].join("\n"),
    );
    const bundle = await compile(entry, root);
    expect(bundle).toMatch(/node_modules\/\.cache\/mcp-pipeline\/tool-main-[0-9a-f]{16}\.mjs$/);
    const run = await execa(process.execPath, [bundle]);
    expect(JSON.parse(run.stdout)).toEqual({
      self: entry,
      where: join(root, "tool", "deep", "where.ts"),
      parsed: { a: 1 },
    });
  });

  it("names stack traces after the TypeScript source under --enable-source-maps", async () => {
    const entry = source(
      "tool/fails.ts",
      'interface Nothing {}\nconst n: Nothing = {};\nthrow new Error("failed on purpose " + JSON.stringify(n));\n',
    );
    const run = await execa(
      process.execPath,
      ["--enable-source-maps", await compile(entry, root)],
      {
        reject: false,
      },
    );
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("failed on purpose");
    expect(run.stderr).toContain(`${entry}:3`);
  });

  it("reuses the bundle of unchanged sources, makes a new one for changed sources, and prunes stale ones", async () => {
    const entry = source("tool/versioned.ts", "console.log(1);\n");
    const first = await compile(entry, root);
    expect(await compile(entry, root)).toBe(first);
    // An hour and more since the first was written or used: stale once the sources change.
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    utimesSync(first, old, old);
    source("tool/versioned.ts", "console.log(2);\n");
    const second = await compile(entry, root);
    expect(second).not.toBe(first);
    expect((await execa(process.execPath, [second])).stdout).toBe("2");
    expect(bundles().filter((name) => name.startsWith("tool-versioned-"))).toEqual([
      second.split("/").pop(),
    ]);
  });

  it("keeps a recent bundle of other sources, which a concurrent run may be starting from", async () => {
    const entry = source("tool/concurrent.ts", "console.log('a');\n");
    const first = await compile(entry, root);
    source("tool/concurrent.ts", "console.log('b');\n");
    const second = await compile(entry, root);
    const names = bundles().filter((name) => name.startsWith("tool-concurrent-"));
    expect(names.sort()).toEqual([first, second].map((f) => f.split("/").pop()).sort());
  });
});
