import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { env, repoRoot } from "../toolchain/helpers.js";
import { check, dockerfileVariant, registryTags, runPipeline } from "./pipeline-harness.js";

// Air-gapped, Trivy has no vulnerability database, so the gate is proven against a tiny one
// built here from trivy-db (test/ci/fixtures/trivy-db): one made-up HIGH advisory for left-pad < 1.3.0.
const dbDir = join(repoRoot, ".pipeline-test", "trivy-db");
const configFile = join(repoRoot, ".pipeline-test", "vuln.config.yaml");
const ONLY_TRIVY = [
  "--skip",
  "non-root",
  "--skip",
  "size-budget",
  "--skip",
  "healthcheck",
  "--skip",
  "compose-smoke",
];

describe("the vulnerability gate, with a database", () => {
  beforeAll(async () => {
    mkdirSync(dbDir, { recursive: true });
    await execa("go", ["run", ".", dbDir], {
      cwd: join(repoRoot, "test", "ci", "fixtures", "trivy-db"),
      env: { ...env, GOFLAGS: "-mod=mod" },
    });
    writeFileSync(configFile, `trivy:\n  dbDir: ${JSON.stringify(dbDir)}\n`);
  });

  it("fails on a HIGH vulnerability, naming the advisory and the package, and publishes nothing", async () => {
    const dockerfile = dockerfileVariant("vulnerable", (t) =>
      t.replace(
        " && chmod 1777 /rootfs/tmp",
        ` && mkdir -p /rootfs/app/node_modules/left-pad \\\n && echo '{"name":"left-pad","version":"1.1.0"}' > /rootfs/app/node_modules/left-pad/package.json \\\n && chmod 1777 /rootfs/tmp`,
      ),
    );
    const run = await runPipeline([
      "--config",
      configFile,
      "--dockerfile",
      dockerfile,
      ...ONLY_TRIVY,
    ]);
    expect(run.exitCode, run.output.slice(-3000)).toBe(1);
    const vulns = check(run, "trivy-vulnerabilities");
    expect(vulns.status).toBe("failed");
    expect(vulns.details.join("\n")).toMatch(/CVE-2099-0001/);
    expect(vulns.details.join("\n")).toMatch(/left-pad/);
    expect(check(run, "trivy").status).toBe("passed");
    expect(await registryTags(run.repository)).toEqual([]);
  });

  it("passes the project's own image against the same database", async () => {
    const run = await runPipeline(["--config", configFile, "--no-publish", ...ONLY_TRIVY]);
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    expect(check(run, "trivy-vulnerabilities").status).toBe("passed");
  });
});
