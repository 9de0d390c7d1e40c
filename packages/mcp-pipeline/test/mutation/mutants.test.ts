import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../paths.js";
import { MUTANTS, mutate } from "./mutants.js";

const root = REPO_ROOT;

describe("the mutation audit's mutants", () => {
  it("each apply to exactly one place in today's code, and change it", () => {
    for (const mutant of MUTANTS) {
      const source = readFileSync(join(root, mutant.file), "utf8");
      expect(mutate(source, mutant), mutant.id).not.toBe(source);
    }
  });

  it("have unique ids, and there are at least twenty beyond the issue's four", () => {
    expect(new Set(MUTANTS.map((m) => m.id)).size).toBe(MUTANTS.length);
    expect(MUTANTS.length).toBeGreaterThanOrEqual(24);
  });

  it("refuses a mutant whose text is missing or ambiguous", () => {
    const mutant = { id: "x", file: "f.ts", from: "a", to: "b", harm: "" };
    expect(() => mutate("bcd", mutant)).toThrow(/exactly once in f.ts \(found none\)/);
    expect(() => mutate("aba", mutant)).toThrow(/found more than one/);
    expect(mutate("cab", mutant)).toBe("cbb");
  });
});
