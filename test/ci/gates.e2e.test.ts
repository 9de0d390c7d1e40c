import { describe, expect, it } from "vitest";
import { dockerfileVariant, expectTripped, runPipeline, skipAllBut } from "./pipeline-harness.js";

// Every gate must trip on an image that deserves it, say what to fix, and publish nothing.
// Checks unrelated to a variant are skipped to keep the suite short.
describe("every gate trips", () => {
  it("fails non-root for an image that runs as root", async () => {
    const dockerfile = dockerfileVariant("root", (t) => t.replace("USER 1000:1000", "USER root"));
    const run = await runPipeline([
      "--dockerfile",
      dockerfile,
      ...skipAllBut("non-root", "size-budget"),
    ]);
    const nonRoot = await expectTripped(run, "non-root");
    expect(nonRoot.summary).toMatch(/root/);
    expect(nonRoot.details.join("\n")).toMatch(/USER 1000:1000/);
  });

  it("fails size-budget when the budget is below the image size, naming the biggest layers", async () => {
    const run = await runPipeline([
      "--size-budget",
      "100",
      ...skipAllBut("non-root", "size-budget"),
    ]);
    const size = await expectTripped(run, "size-budget");
    expect(size.summary).toMatch(/100 MB/);
    expect(size.details.join("\n")).toMatch(/MB/);
  });

  it("fails healthcheck when the HEALTHCHECK always fails, without waiting for the timeout", async () => {
    const dockerfile = dockerfileVariant("unhealthy", (t) =>
      t.replace(
        'HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \\\n  CMD ["/usr/local/bin/node", "/app/healthcheck.mjs"]',
        'HEALTHCHECK --interval=1s --timeout=2s --start-period=1s --retries=2 \\\n  CMD ["/usr/local/bin/node", "-e", "console.log(\'probe says no\'); process.exit(1)"]',
      ),
    );
    const started = Date.now();
    const run = await runPipeline([
      "--dockerfile",
      dockerfile,
      "--health-timeout",
      "120",
      ...skipAllBut("non-root", "size-budget", "healthcheck"),
    ]);
    const health = await expectTripped(run, "healthcheck");
    expect(health.summary).toMatch(/unhealthy/);
    expect(health.details.join("\n")).toMatch(/probe says no/);
    expect(Date.now() - started).toBeLessThan(120_000);
  });

  it("fails trivy on a planted private key, naming the file", async () => {
    const dockerfile = dockerfileVariant("secret", (t) =>
      t.replace(
        " && chmod 1777 /rootfs/tmp",
        ` && node -e "require('fs').writeFileSync('/rootfs/app/deploy-key.pem', require('crypto').generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }))" \\\n && chmod 1777 /rootfs/tmp`,
      ),
    );
    const run = await runPipeline([
      "--dockerfile",
      dockerfile,
      ...skipAllBut("non-root", "size-budget", "trivy"),
    ]);
    const trivy = await expectTripped(run, "trivy");
    expect(trivy.details.join("\n")).toMatch(/private-key/);
    expect(trivy.details.join("\n")).toMatch(/deploy-key\.pem/);
    expect(trivy.details.join("\n")).toMatch(/\.trivyignore/);
  });

  it("fails compose-smoke when the backend's token does not match the server's", async () => {
    const run = await runPipeline(skipAllBut("non-root", "size-budget", "compose-smoke"), {
      BACKEND_SERVICE_AUTH_TOKEN: "not-the-same-token",
    });
    const smoke = await expectTripped(run, "compose-smoke");
    expect(smoke.summary).toMatch(/^smoke test failed: create_task reported an error/);
    expect(smoke.summary).toMatch(/refused the MCP server's credentials/);
    // The stack's logs come with it, so the cause can be read where the failure is reported.
    expect(smoke.details).toContain("logs:");
  });
});
