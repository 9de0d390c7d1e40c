import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { nodePin as pin } from "../../src/toolchain/node-pin.js";
import { PACKAGE_ROOT } from "../paths.js";

const scratch = mkdtempSync(join(tmpdir(), "node-bootstrap-"));
afterAll(() => execa("rm", ["-rf", scratch]));

const hostMajor = Number(process.versions.node.split(".")[0]);
const platform = `${process.platform}-${process.arch}`;

/**
 * A copy of the package's bin in a package of its own, with `assets/node.json` replaced so each
 * branch can be reached without touching the real pin, and a compiled CLI that only prints the
 * Node version it runs on.
 */
function project(name: string, nodePin: object) {
  const dir = join(scratch, name);
  for (const sub of ["bin", "assets", "dist"]) mkdirSync(join(dir, sub), { recursive: true });
  for (const file of ["mcp-pipeline.mjs", "node-runtime.mjs"])
    copyFileSync(join(PACKAGE_ROOT, "bin", file), join(dir, "bin", file));
  writeFileSync(join(dir, "assets", "node.json"), JSON.stringify(nodePin));
  writeFileSync(join(dir, "dist", "cli.js"), "console.log(process.version);\n");
  const cache = join(dir, "cache");
  const run = () =>
    execa(process.execPath, [join(dir, "bin", "mcp-pipeline.mjs")], {
      cwd: dir,
      env: { ...process.env, MCP_PIPELINE_CACHE: cache },
      reject: false,
      all: true,
    });
  return { dir, cache, run };
}

describe("the mcp-pipeline command on a machine whose own Node is too old", () => {
  // Each project pins a minimum above the running Node's, so the download path runs on any host.
  const newer = hostMajor + 1;
  const above = { major: newer, minimum: `${newer}.0.0` };

  it("fetches the pinned Node from the npm registry, checks it and runs the command on it", async () => {
    const p = project("good", { ...pin, ...above });
    const res = await p.run();
    expect(res.exitCode, res.all).toBe(0);
    expect(res.stdout.trim()).toBe(`v${pin.version}`);
    expect(res.stderr).toContain(
      `is older than ${newer}.0.0: fetching node-${platform}@${pin.version}`,
    );
    // The second run finds it in the cache and says nothing.
    const again = await p.run();
    expect(again.stdout.trim()).toBe(`v${pin.version}`);
    expect(again.stderr).toBe("");
  });

  it("refuses a download whose checksum does not match, names both hashes and installs nothing", async () => {
    const wrong = `sha512-${Buffer.alloc(64, 7).toString("base64")}`;
    const p = project("tampered", { ...pin, ...above, integrity: { [platform]: wrong } });
    const res = await p.run();
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain(`expected ${wrong}`);
    expect(res.stderr).toContain(`got ${pin.integrity[platform as keyof typeof pin.integrity]}`);
    expect(res.stderr).toMatch(/Nothing was installed/);
    expect(readdirSync(join(p.cache, "node"))).toEqual([]);
  });

  it("runs on the machine's Node when it is recent enough", async () => {
    const p = project("recent", { ...pin, major: hostMajor, minimum: process.versions.node });
    const res = await p.run();
    expect(res.exitCode, res.all).toBe(0);
    expect(res.stdout.trim()).toBe(process.version);
    expect(existsSync(join(p.cache, "node"))).toBe(false);
  });

  it("says what to install on a platform without a pinned build when the Node is too old", async () => {
    const p = project("unsupported", {
      ...pin,
      major: newer,
      minimum: `${newer}.0.0`,
      integrity: {},
    });
    const res = await p.run();
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toMatch(/needs Node\.js >= \d+\.0\.0/);
    expect(res.stderr).toMatch(/fix: install Node\.js/);
  });

  it("wanting the pinned major, continues on a platform without a pinned build when the Node meets the minimum", async () => {
    // The repository's own scripts want the major it targets (scripts/bootstrap.mjs).
    const p = project("fallback", { ...pin, major: newer, minimum: "18.0.0", integrity: {} });
    const res = await execa(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        "const { ensureNode } = await import('./bin/node-runtime.mjs'); console.log(ensureNode('major') ?? 'own');",
      ],
      {
        cwd: p.dir,
        env: { ...process.env, MCP_PIPELINE_CACHE: p.cache },
        reject: false,
        all: true,
      },
    );
    expect(res.exitCode, res.all).toBe(0);
    expect(res.stdout.trim()).toBe("own");
    expect(res.stderr).toMatch(/no pinned Node \d+ exists for/);
  });
});
