import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { assertSdkVersionMatches } from "../../src/toolchain/steps/dagger-cli.js";
import { versions } from "../../src/toolchain/versions.js";
import { PACKAGE_ROOT } from "../paths.js";

describe("pinned versions", () => {
  it("keeps the package's Dagger SDK equal to the CLI and engine version, and that is the one installed", () => {
    const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8"));
    expect(manifest.dependencies["@dagger.io/dagger"]).toBe(versions.dagger);
    expect(() => assertSdkVersionMatches()).not.toThrow();
  });
});
