import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registryEntryUrl } from "../../../src/ci/mcp/server-json.js";
import type { PipelineReport } from "../../../src/ci/report/schema.js";
import { basicAuth } from "../../../src/host/registry-api.js";
import { REPO_ROOT } from "../../paths.js";
import { env as toolchainEnv } from "../../toolchain/helpers.js";
import { auth, expectPublished, runPipeline, skipAllBut } from "../pipeline-harness.js";
import { type McpRegistryFixture, OCI_HOST, startMcpRegistry } from "../support/mcp-registry.js";

// A release of this repository's app, end to end: the real pipeline on a v0.1.0 tag builds the
// image (labelled from server.json), publishes it and writes its report; then the release's last
// step lists server.json in a real MCP Registry, whose validator pulls the released image and
// checks its label. Here the pipeline publishes to the local registry, which the MCP Registry
// refuses (its allowlist); on GitHub it publishes to ghcr.io. So the image is then copied, by
// digest, to an allowed-looking host (OCI_HOST), as if the release had published there, and the
// report names it there: the same bytes, the same digest.

const NAME = "io.github.mcp-pipeline/mcp-pipeline";
const VERSION = "0.1.0";

let registry: McpRegistryFixture;
const dirs: string[] = [];

beforeAll(async () => {
  registry = await startMcpRegistry();
}, 300_000);

afterAll(async () => {
  await registry?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * A checkout after the release's pipeline: config, server.json naming `identifier`, and the
 * report; with `moved`, the report names the image where it was copied to instead.
 */
function checkout(
  identifier: string,
  reportDir: string,
  moved?: { from: string; to: string },
): string {
  const dir = mkdtempSync(join(tmpdir(), "mcp-registry-release-"));
  dirs.push(dir);
  cpSync(join(REPO_ROOT, "pipeline.config.yaml"), join(dir, "pipeline.config.yaml"));
  const server = JSON.parse(readFileSync(join(REPO_ROOT, "server.json"), "utf8"));
  server.packages[0].identifier = identifier;
  writeFileSync(join(dir, "server.json"), JSON.stringify(server, null, 2));
  cpSync(reportDir, join(dir, "pipeline-report"), { recursive: true });
  if (moved) {
    const file = join(dir, "pipeline-report", "report.json");
    const report = JSON.parse(readFileSync(file, "utf8")) as PipelineReport;
    const move = (ref: string) => ref.replace(moved.from, moved.to);
    const image = { ...report.image, ref: move(report.image.ref) };
    writeFileSync(
      file,
      JSON.stringify({ ...report, image, published: report.published.map(move) }, null, 2),
    );
  }
  return dir;
}

function publish(dir: string, extraEnv: Record<string, string>) {
  return execa(
    "node",
    [join(REPO_ROOT, "scripts", "bootstrap.mjs"), "exec", "mcp-pipeline", "mcp-registry-publish"],
    {
      cwd: dir,
      env: { ...toolchainEnv, MCP_REGISTRY_URL: registry.url, ...extraEnv },
      extendEnv: false,
      reject: false,
      all: true,
    },
  );
}

describe("a release of this repository's app, listed in a real MCP Registry", () => {
  it("lists the image the release published, after the registry refused the local registry it was published to", async () => {
    if (!auth) throw new Error("run `mcp-pipeline setup --with-local-registry` first");
    const sha = (await execa("git", ["rev-parse", "HEAD"], { cwd: REPO_ROOT })).stdout.trim();
    const run = await runPipeline(["--no-sign", ...skipAllBut()], {
      PIPELINE_PLATFORMS: "linux/amd64",
      GITHUB_REF: `refs/tags/v${VERSION}`,
      GITHUB_SHA: sha,
      GITHUB_EVENT_NAME: "push",
    });
    await expectPublished(run);
    const digest = run.report.image.digest ?? "";
    // Each published reference is `repository:tag@digest`.
    expect(run.report.published, run.report.published.join(", ")).toContain(
      `${run.repository}:${VERSION}@${digest}`,
    );
    expect(run.report.mcpRegistry).toEqual({ name: NAME, entry: null });
    const token = await registry.token([
      { action: "publish", resource: "io.github.mcp-pipeline/*" },
    ]);

    // As published: the registry refuses a registry outside its allowlist, in its words.
    const local = await publish(checkout(`${run.repository}:${VERSION}`, run.reportDir), {
      MCP_REGISTRY_TOKEN: token,
    });
    expect(local.exitCode, local.all).toBe(1);
    expect(local.all).toContain(`unsupported OCI registry: ${auth.address}`);

    // The same image on a host the registry accepts: its validator pulls it and reads the label.
    const repo = "mcp-pipeline/mcp-pipeline";
    await registry.mirrorImage(
      {
        address: auth.address,
        repository: run.repository.slice(auth.address.length + 1),
        digest,
        authorization: basicAuth(auth),
      },
      repo,
      VERSION,
    );
    const dir = checkout(`${OCI_HOST}/${repo}:${VERSION}`, run.reportDir, {
      from: run.repository,
      to: `${OCI_HOST}/${repo}`,
    });
    const listed = await publish(dir, { MCP_REGISTRY_TOKEN: token });
    expect(listed.exitCode, listed.all).toBe(0);

    const entry = registryEntryUrl(NAME, VERSION, registry.url);
    const res = await fetch(entry);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { server: { packages: { identifier: string }[] } };
    expect(body.server.packages.map((p) => p.identifier)).toEqual([
      `${OCI_HOST}/${repo}:${VERSION}@${digest}`,
    ]);
    // The release notes: the pipeline's own report.md, its stage table kept, the entry added.
    const notes = readFileSync(join(dir, "pipeline-report", "report.md"), "utf8");
    expect(notes).toContain(`- MCP Registry: \`${NAME}\`, ${entry}`);
    expect(notes).toContain(`- Image: \`${OCI_HOST}/${repo}@${digest}\``);
    expect(notes).toMatch(/\| • \| publish \| done \| /);
  });
});
