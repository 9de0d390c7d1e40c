import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../paths.js";
import { env } from "../toolchain/helpers.js";
import {
  check,
  configVariant,
  contextVariant,
  gateRuns,
  scratchDir,
  skipAllBut,
} from "./pipeline-harness.js";

// Air-gapped, Trivy has no vulnerability database, so the gate is proven against a tiny one built
// here from trivy-db (test/ci/fixtures/trivy-db): two made-up HIGH advisories for npm left-pad,
// CVE-2099-0001 (< 1.3.0, fixed in 1.3.0) and CVE-2099-0002 (every version, no fix yet).
let dbDir: string;
let gate: ReturnType<typeof gateRuns>;

/** The project's Dockerfile plus npm left-pad 1.1.0, which both test advisories flag. */
function vulnerable(): string[] {
  return contextVariant("vulnerable", (t) =>
    t.replace(
      " && chmod 1777 /rootfs/tmp",
      ` && mkdir -p /rootfs/app/node_modules/left-pad \\\n && echo '{"name":"left-pad","version":"1.1.0"}' > /rootfs/app/node_modules/left-pad/package.json \\\n && chmod 1777 /rootfs/tmp`,
    ),
  );
}

describe("the vulnerability gate, with a database", () => {
  beforeAll(async () => {
    dbDir = scratchDir("trivy-db");
    await execa("go", ["run", ".", dbDir], {
      cwd: join(PACKAGE_ROOT, "test", "ci", "fixtures", "trivy-db"),
      env: { ...env, GOFLAGS: "-mod=mod" },
    });
    // The repository's own configuration, plus the database.
    gate = gateRuns([
      ...configVariant("trivy-db", (doc) => doc.setIn(["trivy", "dbDir"], dbDir)),
      ...skipAllBut("trivy", "trivy-vulnerabilities"),
    ]);
  });

  it("passes the project's own image against the database, which then publishes (the control)", async () => {
    const run = await gate.expectControlPublishes();
    expect(check(run, "trivy-vulnerabilities").status).toBe("passed");
  });

  it("fails on HIGH vulnerabilities, naming each advisory, its package and its fix, and publishes nothing", async () => {
    const run = await gate.run(vulnerable());
    const vulns = await gate.expectTripped(run, "trivy-vulnerabilities");
    const details = vulns.details.join("\n");
    expect(details).toMatch(/CVE-2099-0001 in left-pad 1\.1\.0 \(fixed in >=1\.3\.0\)/);
    expect(details).toMatch(/CVE-2099-0002 in left-pad 1\.1\.0 \(no fix yet\)/);
    expect(check(run, "trivy").status).toBe("passed");
  });

  it("leaves out the advisory without a fix when trivy.ignoreUnfixed is set", async () => {
    const run = await gate.run([
      ...vulnerable(),
      // The database's configuration, plus ignoreUnfixed (the last --config wins).
      ...configVariant("ignore-unfixed", (doc) => {
        doc.setIn(["trivy", "dbDir"], dbDir);
        doc.setIn(["trivy", "ignoreUnfixed"], true);
      }),
    ]);
    const vulns = await gate.expectTripped(run, "trivy-vulnerabilities");
    const details = vulns.details.join("\n");
    expect(details).toMatch(/CVE-2099-0001/);
    expect(details).not.toMatch(/CVE-2099-0002/);
  });

  it("honours --skip trivy-vulnerabilities, reporting the gate as skipped", async () => {
    const run = await gate.run([
      ...vulnerable(),
      "--no-publish",
      "--skip",
      "trivy-vulnerabilities",
    ]);
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    expect(check(run, "trivy-vulnerabilities").status).toBe("skipped");
  });
});
