import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { contextHash } from "../../../src/ci/replay/context-hash.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "context-hash-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(file: string, content: string): void {
  mkdirSync(dirname(join(dir, file)), { recursive: true });
  writeFileSync(join(dir, file), content);
}

/** This repository's rules: everything out, then what the image build reads back in. */
const RULES = ["**", "!package.json", "!app/", "app/bench/", "app/**/*.test.ts", ".env"].join("\n");

describe("contextHash", () => {
  beforeEach(() => {
    write(".dockerignore", RULES);
    write("package.json", "{}");
    write("app/server.ts", "export {};");
    write("app/bench/run.ts", "bench");
    write("app/server.test.ts", "test");
    write("README.md", "readme");
    write("node_modules/x/index.js", "dep");
  });

  it("is the same for the same files", () => {
    expect(contextHash(dir)).toBe(contextHash(dir));
    expect(contextHash(dir)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("changes with a file the build is sent, and with one brought back by an exception", () => {
    const before = contextHash(dir);
    write("package.json", '{"name":"x"}');
    const afterRoot = contextHash(dir);
    expect(afterRoot).not.toBe(before);
    // app/ is excluded by `**` and brought back by `!app/`: its files count.
    write("app/server.ts", "export const x = 1;");
    expect(contextHash(dir)).not.toBe(afterRoot);
  });

  it("ignores what .dockerignore leaves out", () => {
    const before = contextHash(dir);
    write("README.md", "changed");
    write("app/bench/run.ts", "changed");
    write("app/server.test.ts", "changed");
    write("node_modules/x/index.js", "changed");
    write(".env", "SECRET=1");
    expect(contextHash(dir)).toBe(before);
  });

  it("changes when a new file is sent, or one is renamed", () => {
    const before = contextHash(dir);
    write("app/new.ts", "export {};");
    const added = contextHash(dir);
    expect(added).not.toBe(before);
    rmSync(join(dir, "app/new.ts"));
    write("app/other.ts", "export {};");
    expect(contextHash(dir)).not.toBe(added);
  });

  it("changes with a file's executable bit and a link's target", () => {
    const before = contextHash(dir);
    chmodSync(join(dir, "app/server.ts"), 0o755);
    const executable = contextHash(dir);
    expect(executable).not.toBe(before);
    symlinkSync("server.ts", join(dir, "app/link.ts"));
    const linked = contextHash(dir);
    expect(linked).not.toBe(executable);
    rmSync(join(dir, "app/link.ts"));
    symlinkSync("bench/run.ts", join(dir, "app/link.ts"));
    expect(contextHash(dir)).not.toBe(linked);
  });

  it("leaves out the top-level entries it is told to skip, even without a .dockerignore", () => {
    rmSync(join(dir, ".dockerignore"));
    const before = contextHash(dir, ["node_modules"]);
    write("node_modules/x/index.js", "changed");
    expect(contextHash(dir, ["node_modules"])).toBe(before);
    // Without the rules, README.md is sent, so it counts.
    write("README.md", "changed");
    expect(contextHash(dir, ["node_modules"])).not.toBe(before);
  });
});
