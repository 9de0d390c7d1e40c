import { describe, expect, it } from "vitest";
import { imageConfig, manifestDigest } from "../../src/host/registry-api.js";
import { readState } from "../../src/toolchain/state.js";
import { paths } from "../toolchain/helpers.js";
import { auth, registryTags, runPipeline, workingTreeStatus } from "./pipeline-harness.js";

/**
 * Air-gapped there is no vulnerability database: the check is reported skipped, never a silent
 * pass. Online (AIRGAP=0, as ci.yml's test job runs) Trivy downloads one and the check runs.
 */
const vulnerabilityScan = readState(paths)?.mode === "online" ? "passed" : "skipped";

describe("npm run pipeline on this repository", () => {
  it("passes every gate, publishes edge and sha tags on one digest with the OCI labels, and reports it", async () => {
    const before = await workingTreeStatus();
    const run = await runPipeline([]);
    expect(run.exitCode, run.output.slice(-4000)).toBe(0);
    // Reports, scans and the compose override all went elsewhere: the checkout is as it was.
    expect(await workingTreeStatus()).toBe(before);
    expect(run.report.ok).toBe(true);
    const statuses = Object.fromEntries(run.report.checks.map((c) => [c.id, c.status]));
    expect(statuses).toEqual({
      "non-root": "passed",
      "size-budget": "passed",
      healthcheck: "passed",
      trivy: "passed",
      "trivy-vulnerabilities": vulnerabilityScan,
      "compose-smoke": "passed",
      "mcp-conformance": "passed",
      "mcp-contract": "passed",
      "mcp-registry": "passed",
      // Published to the local registry: signed with setup's key pair and verified.
      signature: "passed",
    });
    expect(run.report.image.sizeBytes).toBeGreaterThan(100_000_000);
    expect(run.report.image.compressedBytes).toBeLessThan(run.report.image.sizeBytes ?? 0);

    const all = (await registryTags(run.repository)).sort();
    // cosign keeps signatures and attestations beside the image as sha256-<digest>.sig/.att.
    const signed = `sha256-${run.report.image.digest?.slice("sha256:".length)}`;
    expect(all).toContain(`${signed}.sig`);
    expect(all).toContain(`${signed}.att`);
    const tags = all.filter((t) => !t.startsWith("sha256-"));
    expect(tags).toHaveLength(2);
    expect(tags[0]).toBe("edge");
    expect(tags[1]).toMatch(/^sha-[0-9a-f]{7}$/);
    const name = run.repository.slice((auth?.address.length ?? 0) + 1);
    const digests = await Promise.all(
      tags.map((t) => manifestDigest(auth?.address ?? "", name, t, auth)),
    );
    expect(new Set(digests).size).toBe(1);
    expect(run.report.image.digest).toBe(digests[0]);
    expect(run.report.published.sort()).toEqual(
      tags.map((t) => `${run.repository}:${t}@${digests[0]}`).sort(),
    );

    const config = await imageConfig(auth?.address ?? "", name, "edge", auth);
    const labels = config.config?.Labels ?? {};
    expect(labels["org.opencontainers.image.revision"]).toMatch(/^[0-9a-f]{40}$/);
    expect(labels["org.opencontainers.image.version"]).toMatch(/^0\.0\.0-edge\+[0-9a-f]{7}$/);
    expect(labels["org.opencontainers.image.created"]).toMatch(/^\d{4}-\d\d-\d\dT/);
    // The MCP Registry's proof of ownership, from server.json's name (passed as MCP_SERVER_NAME).
    expect(labels["io.modelcontextprotocol.server.name"]).toBe(
      "io.github.mcp-pipeline/mcp-pipeline",
    );
    for (const key of ["title", "description", "source", "licenses"])
      expect(labels).toHaveProperty(`org.opencontainers.image.${key}`);
    expect(config.config?.User).toBe("1000:1000");
    // Straight from Dagger's publish: the Dockerfile's HEALTHCHECK with every flag.
    expect(config.config?.Healthcheck).toEqual({
      Test: ["CMD", "/usr/local/bin/node", "/app/healthcheck.mjs"],
      Interval: 10_000_000_000,
      Timeout: 3_000_000_000,
      StartPeriod: 10_000_000_000,
      StartInterval: 1_000_000_000,
      Retries: 3,
    });
  });
});
