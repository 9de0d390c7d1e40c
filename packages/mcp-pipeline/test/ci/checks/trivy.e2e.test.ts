import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  check,
  configVariant,
  contextVariant,
  gateRuns,
  scratchDir,
  skipAllBut,
} from "../pipeline-harness.js";
import { plantedKey } from "../variants.js";

const gate = gateRuns(skipAllBut("trivy"));

describe("the trivy gate", () => {
  it("passes the project's image, which then publishes (the control for every run below)", async () => {
    const run = await gate.expectControlPublishes();
    expect(check(run, "trivy").summary).toMatch(/no secrets/);
  });

  it("fails on a planted private key, naming the file and how to suppress a false positive", async () => {
    const run = await gate.run(plantedKey());
    const result = await gate.expectTripped(run, "trivy");
    const details = result.details.join("\n");
    expect(details).toMatch(/private-key/);
    expect(details).toMatch(/deploy-key\.pem/);
    expect(details).toMatch(/\.trivyignore/);
  });

  it("fails on a HIGH misconfiguration of the image config: it runs as root", async () => {
    const run = await gate.run(
      contextVariant("root", (t) => t.replace("USER 1000:1000", "USER root")),
    );
    const result = await gate.expectTripped(run, "trivy");
    expect(result.summary).toMatch(/failed misconfiguration/);
    expect(result.details.join("\n")).toMatch(/^misconfiguration HIGH DS-?0*2 /m);
  });

  it("passes the same planted key once the ignore file lists its rule", async () => {
    const ignoreFile = join(scratchDir("trivyignore"), ".trivyignore");
    writeFileSync(ignoreFile, "# a test key, planted on purpose\nprivate-key\n");
    const run = await gate.run([
      ...plantedKey(),
      ...configVariant("ignore-private-key", (doc) =>
        doc.setIn(["trivy", "ignoreFile"], ignoreFile),
      ),
    ]);
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    expect(check(run, "trivy").status).toBe("passed");
  });
});
