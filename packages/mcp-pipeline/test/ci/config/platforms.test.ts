import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/ci/config/load.js";
import { ConfigError } from "../../../src/ci/errors.js";

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(path.join(tmpdir(), "pipeline-platforms-"));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

const load = (env: Record<string, string> = {}) => loadConfig({ cwd, env });

function errorFrom(env: Record<string, string> = {}): ConfigError {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected loadConfig to throw");
}

describe("image.platforms", () => {
  it("builds linux/amd64 and linux/arm64 when nothing is configured", () => {
    expect(load().image.platforms).toEqual(["linux/amd64", "linux/arm64"]);
  });

  it("takes a list from the config file, with a variant, in the order given", () => {
    writeFileSync(
      path.join(cwd, "pipeline.config.yaml"),
      "image:\n  platforms: [linux/arm64, linux/arm/v7]\n",
    );
    expect(load().image.platforms).toEqual(["linux/arm64", "linux/arm/v7"]);
  });

  it("takes a comma list from PIPELINE_PLATFORMS, over the file", () => {
    writeFileSync(path.join(cwd, "pipeline.config.yaml"), "image:\n  platforms: [linux/arm64]\n");
    expect(load({ PIPELINE_PLATFORMS: " linux/amd64 , " }).image.platforms).toEqual([
      "linux/amd64",
    ]);
  });

  it("drops a platform given twice", () => {
    expect(load({ PIPELINE_PLATFORMS: "linux/amd64,linux/amd64" }).image.platforms).toEqual([
      "linux/amd64",
    ]);
  });

  it("names the item that is not a platform, and where it came from", () => {
    expect(errorFrom({ PIPELINE_PLATFORMS: "linux/amd64,arm64" }).message).toBe(
      'image.platforms.1: expected a platform like linux/amd64 or linux/arm64 (os/arch[/variant]), got "arm64" (from $PIPELINE_PLATFORMS)',
    );
  });

  it("refuses an empty list", () => {
    writeFileSync(path.join(cwd, "pipeline.config.yaml"), "image:\n  platforms: []\n");
    const error = errorFrom();
    expect(error.field).toBe("image.platforms");
    expect(error.message).toMatch(
      /^image\.platforms: expected a list of platforms like \[linux\/amd64, linux\/arm64\]/,
    );
  });

  it("refuses a single string where a list belongs", () => {
    writeFileSync(path.join(cwd, "pipeline.config.yaml"), "image:\n  platforms: linux/amd64\n");
    expect(errorFrom().message).toMatch(/^image\.platforms: expected a list of platforms/);
  });
});
