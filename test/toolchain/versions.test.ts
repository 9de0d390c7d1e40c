import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { assertSdkVersionMatches } from "../../toolchain/steps/dagger-cli.js";
import { versions } from "../../toolchain/versions.js";
import { repoRoot } from "./helpers.js";

describe("pinned versions", () => {
  it("keeps the Dagger SDK in the lockfile equal to the CLI and engine version", () => {
    const lock = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8"));
    expect(lock.packages["node_modules/@dagger.io/dagger"].version).toBe(versions.dagger);
    expect(() => assertSdkVersionMatches(repoRoot)).not.toThrow();
  });
});
