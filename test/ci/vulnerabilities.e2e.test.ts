import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { env, repoRoot } from "../toolchain/helpers.js";
import {
  check,
  dockerfileVariant,
  expectTripped,
  runPipeline,
  skipAllBut,
} from "./pipeline-harness.js";

// Air-gapped, Trivy has no vulnerability database, so the gate is proven against a tiny one
// built here from trivy-db (test/ci/fixtures/trivy-db): one made-up HIGH advisory for left-pad < 1.3.0.
const dbDir = join(repoRoot, ".pipeline-test", "trivy-db");
const configFile = join(repoRoot, ".pipeline-test", "vuln.config.yaml");

/** The project's Dockerfile plus npm left-pad 1.1.0, which the test database flags. */
function vulnerableDockerfile(): string {
  return dockerfileVariant("vulnerable", (t) =>
    t.replace(
      " && chmod 1777 /rootfs/tmp",
      ` && mkdir -p /rootfs/app/node_modules/left-pad \\\n && echo '{"name":"left-pad","version":"1.1.0"}' > /rootfs/app/node_modules/left-pad/package.json \\\n && chmod 1777 /rootfs/tmp`,
    ),
  );
}

describe("the vulnerability gate, with a database", () => {
  beforeAll(async () => {
    mkdirSync(dbDir, { recursive: true });
    await execa("go", ["run", ".", dbDir], {
      cwd: join(repoRoot, "test", "ci", "fixtures", "trivy-db"),
      env: { ...env, GOFLAGS: "-mod=mod" },
    });
    // The repository's own configuration, plus the database.
    const own = readFileSync(join(repoRoot, "pipeline.config.yaml"), "utf8");
    writeFileSync(configFile, `${own}\ntrivy:\n  dbDir: ${JSON.stringify(dbDir)}\n`);
  });

  it("fails on a HIGH vulnerability, naming the advisory and the package, and publishes nothing", async () => {
    const dockerfile = vulnerableDockerfile();
    const run = await runPipeline([
      "--config",
      configFile,
      "--dockerfile",
      dockerfile,
      ...skipAllBut("trivy", "trivy-vulnerabilities"),
    ]);
    const vulns = await expectTripped(run, "trivy-vulnerabilities");
    expect(vulns.details.join("\n")).toMatch(/CVE-2099-0001/);
    expect(vulns.details.join("\n")).toMatch(/left-pad/);
    expect(check(run, "trivy").status).toBe("passed");
  });

  it("passes the project's own image against the same database", async () => {
    const run = await runPipeline([
      "--config",
      configFile,
      "--no-publish",
      ...skipAllBut("trivy", "trivy-vulnerabilities"),
    ]);
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    expect(check(run, "trivy-vulnerabilities").status).toBe("passed");
  });

  it("honours --skip trivy-vulnerabilities, reporting the gate as skipped", async () => {
    const dockerfile = vulnerableDockerfile();
    const run = await runPipeline([
      "--config",
      configFile,
      "--no-publish",
      "--dockerfile",
      dockerfile,
      ...skipAllBut("trivy", "trivy-vulnerabilities"),
      "--skip",
      "trivy-vulnerabilities",
    ]);
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    expect(check(run, "trivy-vulnerabilities").status).toBe("skipped");
  });
});
