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
import pin from "../../toolchain/node.json" with { type: "json" };
import { repoRoot } from "./helpers.js";

const scratch = mkdtempSync(join(tmpdir(), "node-bootstrap-"));
afterAll(() => execa("rm", ["-rf", scratch]));

const hostMajor = Number(process.versions.node.split(".")[0]);
const platform = `${process.platform}-${process.arch}`;

/**
 * A copy of the bootstrap in a project of its own with `node.json` replaced, so
 * each branch can be reached without touching the real pin. Dependencies count
 * as installed, so only the Node step runs.
 */
function project(name: string, nodePin: object) {
  const dir = join(scratch, name);
  mkdirSync(join(dir, "toolchain"), { recursive: true });
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  for (const file of ["bootstrap.mjs", "compile.mjs"])
    copyFileSync(join(repoRoot, "toolchain", file), join(dir, "toolchain", file));
  writeFileSync(join(dir, "toolchain", "node.json"), JSON.stringify(nodePin));
  writeFileSync(join(dir, "package-lock.json"), "{}");
  writeFileSync(join(dir, "node_modules", ".package-lock.json"), "{}");
  const cache = join(dir, "cache");
  const run = () =>
    execa(
      process.execPath,
      [join(dir, "toolchain", "bootstrap.mjs"), "exec", "node", "--version"],
      {
        cwd: dir,
        env: { ...process.env, MCP_PIPELINE_CACHE: cache },
        reject: false,
        all: true,
      },
    );
  return { cache, run };
}

describe("bootstrap: Node for a machine whose own Node is too old", () => {
  // Each project pins a major above the running Node's, so the download path runs on any host.
  const newer = hostMajor + 1;

  it("fetches the pinned Node from the npm registry, checks it and runs the command on it", async () => {
    const p = project("good", { ...pin, major: newer });
    const res = await p.run();
    expect(res.exitCode, res.all).toBe(0);
    expect(res.stdout.trim()).toBe(`v${pin.version}`);
    expect(res.stderr).toContain(
      `is older than ${newer}: fetching node-${platform}@${pin.version}`,
    );
    // The second run finds it in the cache and says nothing.
    const again = await p.run();
    expect(again.stdout.trim()).toBe(`v${pin.version}`);
    expect(again.stderr).toBe("");
  });

  it("refuses a download whose checksum does not match, names both hashes and installs nothing", async () => {
    const wrong = `sha512-${Buffer.alloc(64, 7).toString("base64")}`;
    const p = project("tampered", { ...pin, major: newer, integrity: { [platform]: wrong } });
    const res = await p.run();
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain(`expected ${wrong}`);
    expect(res.stderr).toContain(`got ${pin.integrity[platform as keyof typeof pin.integrity]}`);
    expect(res.stderr).toMatch(/Nothing was installed/);
    expect(readdirSync(join(p.cache, "node"))).toEqual([]);
  });

  it("runs on the machine's Node when it is recent enough", async () => {
    const p = project("recent", { ...pin, major: hostMajor });
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

  it("continues on a platform without a pinned build when the Node meets the minimum", async () => {
    const p = project("fallback", { ...pin, major: newer, minimum: "18.0.0", integrity: {} });
    const res = await p.run();
    expect(res.exitCode, res.all).toBe(0);
    expect(res.stdout.trim()).toBe(process.version);
    expect(res.stderr).toMatch(/no pinned Node \d+ exists for/);
  });
});
