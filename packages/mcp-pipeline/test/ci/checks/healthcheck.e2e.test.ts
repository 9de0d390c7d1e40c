import { describe, expect, it } from "vitest";
import { check, contextVariant, gateRuns, skipAllBut } from "../pipeline-harness.js";
import { exitsAtOnce, noSuchUser } from "../variants.js";

const DECLARED =
  'HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --start-interval=1s --retries=3 \\\n  CMD ["/usr/local/bin/node", "/app/healthcheck.mjs"]';

/** The project's image with its HEALTHCHECK replaced by `healthcheck` (a Dockerfile instruction). */
function withHealthcheck(name: string, healthcheck: string): string[] {
  return contextVariant(name, (t) => t.replace(DECLARED, healthcheck));
}

const gate = gateRuns(skipAllBut("healthcheck"));

describe("the healthcheck gate", () => {
  it("passes the project's image, which then publishes (the control for every run below)", async () => {
    const run = await gate.expectControlPublishes();
    expect(check(run, "healthcheck").summary).toMatch(
      /^healthy .+ after start \(probed every 250 ms\)$/,
    );
  });

  it("fails an image without a HEALTHCHECK instruction", async () => {
    const run = await gate.run(
      contextVariant("no-healthcheck", (t) => t.replaceAll(/^HEALTHCHECK .*\\\n.*\n/gm, "")),
    );
    const result = await gate.expectTripped(run, "healthcheck");
    expect(result.summary).toBe("the image declares no HEALTHCHECK");
  });

  it("fails an image whose HEALTHCHECK is NONE", async () => {
    const run = await gate.run(
      contextVariant("healthcheck-none", (t) =>
        t.replace("FROM runtime AS mcp-server", "FROM runtime AS mcp-server\nHEALTHCHECK NONE"),
      ),
    );
    const result = await gate.expectTripped(run, "healthcheck");
    expect(result.summary).toBe("the image declares no HEALTHCHECK");
    expect(result.details.join("\n")).toMatch(/HEALTHCHECK CMD/);
  });

  it("fails as soon as the probe turns the container unhealthy, with the probe's output", async () => {
    const run = await gate.run([
      ...withHealthcheck(
        "unhealthy",
        'HEALTHCHECK --interval=1s --timeout=2s --start-period=1s --retries=2 \\\n  CMD ["/usr/local/bin/node", "-e", "console.log(\'probe says no\'); process.exit(1)"]',
      ),
      // Far longer than two failed probes take; the summary shows the gate did not wait for it.
      "--health-timeout",
      "120",
    ]);
    const result = await gate.expectTripped(run, "healthcheck");
    expect(result.summary).toMatch(
      /^the container turned unhealthy .+ after start \(\d+ failing probes in a row\)$/,
    );
    expect(result.details.join("\n")).toMatch(/probe exit 1: probe says no/);
  });

  it("fails when the container is still starting at the timeout, with the probe's output", async () => {
    // Failures inside the start period do not count, so the container stays `starting`.
    const run = await gate.run([
      ...withHealthcheck(
        "never-healthy",
        'HEALTHCHECK --interval=1s --timeout=2s --start-period=1h --retries=1 \\\n  CMD ["/usr/local/bin/node", "-e", "console.log(\'probe says not yet\'); process.exit(1)"]',
      ),
      "--health-timeout",
      "5",
    ]);
    const result = await gate.expectTripped(run, "healthcheck");
    expect(result.summary).toBe("not healthy within 5 s (still starting)");
    expect(result.details.join("\n")).toMatch(/probe exit 1: probe says not yet/);
    expect(result.details.join("\n")).toMatch(/Raise health\.timeoutSeconds/);
  });

  it("fails when the container exits before turning healthy, with its exit code", async () => {
    const run = await gate.run(exitsAtOnce());
    const result = await gate.expectTripped(run, "healthcheck");
    expect(result.summary).toBe("the container exited with code 1 before turning healthy");
  });

  it("fails when the container cannot start, and leaves no container behind", async () => {
    // runPipeline itself asserts that no container of the image is left.
    const run = await gate.run(noSuchUser());
    const result = await gate.expectTripped(run, "healthcheck");
    expect(result.summary).toMatch(/^healthcheck could not run: .*docker start/);
    expect(result.details.join("\n")).toMatch(/nosuchuser/);
  });
});
