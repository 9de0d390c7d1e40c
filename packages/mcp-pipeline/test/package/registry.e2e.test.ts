import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PACKAGE_ROOT } from "../paths.js";
import { type NpmRegistry, startNpmRegistry } from "../support/npm-registry.js";

// The package as an adopter gets it: published to a real npm registry on loopback (Verdaccio, with
// the public registry as its uplink for the dependencies), installed with `npm i -D` into an empty
// repository, and run from there with npx.

const scratch = mkdtempSync(join(tmpdir(), "package-registry-"));
let registry: NpmRegistry;

beforeAll(async () => {
  registry = await startNpmRegistry();
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe("mcp-pipeline from an npm registry", () => {
  it("publishes only what an adopter runs: the compiled CLI, its assets and the config schema", async () => {
    const packed = await execa("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: PACKAGE_ROOT,
    });
    const files = (JSON.parse(packed.stdout) as { files: { path: string }[] }[])[0]?.files.map(
      (f) => f.path,
    );
    expect(files).toEqual(
      expect.arrayContaining([
        "bin/mcp-pipeline.mjs",
        "bin/node-runtime.mjs",
        "dist/cli.js",
        "dist/ci/main.js",
        "dist/ci/replay.js",
        "assets/node.json",
        "assets/images/dagger-engine.Dockerfile",
        "assets/mcp-registry/server.schema.2025-12-11.json",
        "schema/pipeline.config.schema.json",
        "package.json",
      ]),
    );
    expect(
      files?.filter((f) => /^(src|test)\//.test(f) || (f.endsWith(".ts") && !f.endsWith(".d.ts"))),
    ).toEqual([]);
  });

  it("is installed with npm i -D into an empty repository and runs there with npx", async () => {
    const published = await execa("npm", ["publish", ...registry.flags], {
      cwd: PACKAGE_ROOT,
      all: true,
      reject: false,
    });
    expect(published.exitCode, published.all).toBe(0);

    const repo = join(scratch, "adopter");
    mkdirSync(repo);
    writeFileSync(join(repo, "package.json"), '{ "name": "adopter", "private": true }\n');
    const installed = await execa(
      "npm",
      ["install", "--save-dev", "mcp-pipeline", ...registry.flags],
      {
        cwd: repo,
        all: true,
        reject: false,
      },
    );
    expect(installed.exitCode, installed.all).toBe(0);
    const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as {
      version: string;
    };
    const adopter = JSON.parse(readFileSync(join(repo, "package.json"), "utf8"));
    expect(adopter.devDependencies["mcp-pipeline"]).toBe(`^${manifest.version}`);

    const npx = (args: string[]) =>
      execa("npx", ["--no-install", "mcp-pipeline", ...args], {
        cwd: repo,
        reject: false,
        all: true,
      });
    const version = await npx(["--version"]);
    expect(version.stdout.trim()).toBe(manifest.version);

    writeFileSync(
      join(repo, "Dockerfile"),
      "FROM node:24-slim\nUSER 1000\nEXPOSE 8080\nHEALTHCHECK CMD true\n",
    );
    const init = await npx(["init"]);
    expect(init.exitCode, init.all).toBe(0);
    expect(parse(readFileSync(join(repo, "pipeline.config.yaml"), "utf8")).image.name).toBe(
      "adopter",
    );

    // A bad flag is bad input (exit 2) before anything is installed or built.
    const bad = await npx(["verify", "--no-such-flag"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.all).toContain("unknown option '--no-such-flag'");
  }, 600_000);
});
