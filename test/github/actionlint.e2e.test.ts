import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { toolchainPaths } from "../../packages/mcp-pipeline/src/toolchain/settings.js";

const ROOT = resolve(import.meta.dirname, "../..");
const ACTIONLINT = join(toolchainPaths(process.env).bin, "actionlint");

function actionlint(cwd: string, files: string[]) {
  if (!existsSync(ACTIONLINT)) {
    throw new Error(`${ACTIONLINT} is missing: run \`npm run setup\` first`);
  }
  return execa(ACTIONLINT, ["-no-color", ...files], { cwd, reject: false });
}

describe("actionlint", () => {
  const scratch = mkdtempSync(join(tmpdir(), "actionlint-test-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("passes on every workflow in .github/workflows", async () => {
    const files = readdirSync(join(ROOT, ".github", "workflows"))
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => join(".github", "workflows", f));
    expect(files.length).toBeGreaterThanOrEqual(3);
    const res = await actionlint(ROOT, files);
    expect(`${res.stdout}${res.stderr}`).toBe("");
    expect(res.exitCode).toBe(0);
  });

  it("fails a workflow that calls a missing job and an unknown context", async () => {
    mkdirSync(join(scratch, ".github", "workflows"), { recursive: true });
    const bad = join(".github", "workflows", "bad.yml");
    writeFileSync(
      join(scratch, bad),
      [
        "on: push",
        "jobs:",
        "  build:",
        "    needs: nowhere",
        "    runs-on: ubuntu-24.04",
        "    steps:",
        `      - run: echo \${{ gihtub.sha }}`,
        "",
      ].join("\n"),
    );
    const res = await actionlint(scratch, [bad]);
    expect(res.exitCode).toBe(1);
    expect(res.stdout).toContain('job "build" needs job "nowhere" which does not exist');
    expect(res.stdout).toContain('undefined variable "gihtub"');
  });
});
