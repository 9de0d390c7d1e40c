import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registryEntryUrl } from "../../../src/ci/mcp/server-json.js";
import { renderMarkdown } from "../../../src/ci/report/markdown.js";
import type { PipelineReport } from "../../../src/ci/report/schema.js";
import { REPO_ROOT } from "../../paths.js";
import { env as toolchainEnv } from "../../toolchain/helpers.js";
import { type McpRegistryFixture, OCI_HOST, startMcpRegistry } from "../support/mcp-registry.js";

// A release's last step against a real MCP Registry (the pinned build, PostgreSQL behind it):
// `mcp-pipeline mcp-registry-publish` runs mcp-publisher, whose server.json names an image the
// registry's own validator fetches and whose label it checks. Each refusal is the registry's.

const NAME = "io.github.mcp-pipeline/todo";
const REPO = "mcp-pipeline/todo";
const LABEL = "io.modelcontextprotocol.server.name";

let registry: McpRegistryFixture;
const dirs: string[] = [];

beforeAll(async () => {
  registry = await startMcpRegistry();
}, 300_000);

afterAll(async () => {
  await registry?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Release {
  version: string;
  /** The tag the release pushed (the version, unless a test says otherwise). */
  tag?: string;
  digest: string;
  ok?: boolean;
}

/** A repository after a release's pipeline run: config, server.json and its pipeline-report/. */
function releasedRepo(release: Release): string {
  const dir = mkdtempSync(join(tmpdir(), "mcp-registry-release-"));
  dirs.push(dir);
  const tag = release.tag ?? release.version;
  writeFileSync(join(dir, "pipeline.config.yaml"), "image:\n  name: todo\nmcp:\n  path: /mcp\n");
  writeFileSync(
    join(dir, "server.json"),
    JSON.stringify({
      $schema: "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
      name: NAME,
      description: "A todo list.",
      version: release.version,
      packages: [
        {
          registryType: "oci",
          identifier: `${OCI_HOST}/${REPO}:${tag}`,
          transport: { type: "streamable-http", url: "http://localhost:3000/mcp" },
        },
      ],
    }),
  );
  const report: PipelineReport = {
    ok: release.ok ?? true,
    image: {
      ref: `${OCI_HOST}/${REPO}:${tag}`,
      digest: release.digest,
      sizeBytes: 1,
      compressedBytes: 1,
    },
    checks: [],
    published: [`${OCI_HOST}/${REPO}:${tag}`, `${OCI_HOST}/${REPO}:latest`],
    mcpRegistry: { name: NAME, entry: null },
    error: null,
  };
  mkdirSync(join(dir, "pipeline-report"));
  writeFileSync(join(dir, "pipeline-report", "report.json"), JSON.stringify(report, null, 2));
  writeFileSync(
    join(dir, "pipeline-report", "report.md"),
    renderMarkdown(report, {
      durationMs: 60_000,
      stages: [{ name: "publish", status: "passed", durationMs: 1 }],
    }),
  );
  return dir;
}

/** `mcp-pipeline mcp-registry-publish` in `dir`, as a release job runs it. */
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

async function ownerToken(): Promise<string> {
  return registry.token([{ action: "publish", resource: "io.github.mcp-pipeline/*" }]);
}

async function entry(version: string) {
  const res = await fetch(registryEntryUrl(NAME, version, registry.url));
  return {
    status: res.status,
    body:
      res.status === 200
        ? ((await res.json()) as {
            server: { version: string; packages: { identifier: string }[] };
            _meta: Record<string, { status?: string }>;
          })
        : undefined,
  };
}

describe("mcp-pipeline mcp-registry-publish against a real MCP Registry", () => {
  it("lists a release pinned to its digest, reads it back, and adds the entry to the report and release notes", async () => {
    const digest = await registry.pushImage(REPO, "1.0.0", { [LABEL]: NAME });
    const dir = releasedRepo({ version: "1.0.0", digest });
    const token = await ownerToken();
    const summary = join(dir, "step-summary.md");
    const res = await publish(dir, { MCP_REGISTRY_TOKEN: token, GITHUB_STEP_SUMMARY: summary });
    expect(res.exitCode, res.all).toBe(0);
    expect(res.all).not.toContain(token);

    const listed = await entry("1.0.0");
    expect(listed.status).toBe(200);
    expect(listed.body?.server.version).toBe("1.0.0");
    expect(listed.body?.server.packages.map((p) => p.identifier)).toEqual([
      `${OCI_HOST}/${REPO}:1.0.0@${digest}`,
    ]);
    expect(listed.body?._meta["io.modelcontextprotocol.registry/official"]?.status).toBe("active");

    const url = registryEntryUrl(NAME, "1.0.0", registry.url);
    expect(res.stdout.trim()).toBe(url);
    const report = JSON.parse(
      readFileSync(join(dir, "pipeline-report", "report.json"), "utf8"),
    ) as PipelineReport;
    expect(report.mcpRegistry).toEqual({ name: NAME, entry: url });
    const notes = readFileSync(join(dir, "pipeline-report", "report.md"), "utf8");
    expect(notes).toContain(`- MCP Registry: \`${NAME}\`, ${url}`);
    expect(notes).toContain(`- Image: \`${OCI_HOST}/${REPO}@${digest}\``);
    // What only the run knew is kept: the stage table is still there.
    expect(notes).toContain("| ✅ | publish | passed |");
    expect(readFileSync(summary, "utf8")).toContain(`\`${NAME}\` 1.0.0 is listed: ${url}`);
  });

  it("does nothing when a re-run finds the release already listed with its image", async () => {
    const digest = await registry.pushImage(REPO, "1.0.0", { [LABEL]: NAME });
    const res = await publish(releasedRepo({ version: "1.0.0", digest }), {
      MCP_REGISTRY_TOKEN: await ownerToken(),
    });
    expect(res.exitCode, res.all).toBe(0);
    expect(res.all).toContain("already listed with this release's image");
  });

  it("fails on a duplicate version with another image, in the registry's words", async () => {
    const digest = await registry.pushImage(REPO, "1.0.0-other", { [LABEL]: NAME, other: "yes" });
    const res = await publish(releasedRepo({ version: "1.0.0", tag: "1.0.0-other", digest }), {
      MCP_REGISTRY_TOKEN: await ownerToken(),
    });
    expect(res.exitCode, res.all).toBe(1);
    expect(res.all).toContain(
      `invalid version: cannot publish duplicate version: ${NAME}@1.0.0 already exists`,
    );
    expect(res.all).toContain("The image and its signatures stay published");
    expect(res.all).not.toMatch(/\n\s+at /);
  });

  it("fails on an image labelled for another server, in the registry's words, and lists it once the label is right", async () => {
    const wrong = await registry.pushImage(REPO, "1.1.0", { [LABEL]: "io.github.someone/else" });
    const refused = await publish(releasedRepo({ version: "1.1.0", digest: wrong }), {
      MCP_REGISTRY_TOKEN: await ownerToken(),
    });
    expect(refused.exitCode, refused.all).toBe(1);
    expect(refused.all).toContain(
      `OCI image ownership validation failed. Expected annotation '${LABEL}' = '${NAME}', got 'io.github.someone/else'`,
    );
    expect((await entry("1.1.0")).status).toBe(404);

    // The same release re-run with the label fixed (a new image under the same tag) is listed.
    const right = await registry.pushImage(REPO, "1.1.0", { [LABEL]: NAME });
    const rerun = await publish(releasedRepo({ version: "1.1.0", digest: right }), {
      MCP_REGISTRY_TOKEN: await ownerToken(),
    });
    expect(rerun.exitCode, rerun.all).toBe(0);
    expect((await entry("1.1.0")).status).toBe(200);
  });

  it("reads one platform's label only: an index whose arm64 image lacks it is accepted, its amd64 image's wrong label refused (the gate reads every platform)", async () => {
    const arm64Unlabelled = await registry.pushIndex(REPO, "1.7.0", {
      amd64: { [LABEL]: NAME },
      arm64: {},
    });
    const accepted = await publish(releasedRepo({ version: "1.7.0", digest: arm64Unlabelled }), {
      MCP_REGISTRY_TOKEN: await ownerToken(),
    });
    expect(accepted.exitCode, accepted.all).toBe(0);

    const amd64Wrong = await registry.pushIndex(REPO, "1.8.0", {
      amd64: { [LABEL]: "io.github.someone/else" },
      arm64: { [LABEL]: NAME },
    });
    const refused = await publish(releasedRepo({ version: "1.8.0", digest: amd64Wrong }), {
      MCP_REGISTRY_TOKEN: await ownerToken(),
    });
    expect(refused.exitCode, refused.all).toBe(1);
    expect(refused.all).toContain("got 'io.github.someone/else'");
  });

  it("fails on an image without the label, in the registry's words", async () => {
    const digest = await registry.pushImage(REPO, "1.2.0", {});
    const res = await publish(releasedRepo({ version: "1.2.0", digest }), {
      MCP_REGISTRY_TOKEN: await ownerToken(),
    });
    expect(res.exitCode, res.all).toBe(1);
    expect(res.all).toContain(
      `is missing required annotation. Add this to your Dockerfile: LABEL ${LABEL}="${NAME}"`,
    );
  });

  it("fails on a version that is a range, in the registry's words", async () => {
    const digest = await registry.pushImage(REPO, "1.3.0", { [LABEL]: NAME });
    const res = await publish(releasedRepo({ version: "^1.3.0", tag: "1.3.0", digest }), {
      MCP_REGISTRY_TOKEN: await ownerToken(),
    });
    expect(res.exitCode, res.all).toBe(1);
    expect(res.all).toContain('version must be a specific version, not a range: "^1.3.0"');
  });

  it("fails when the login may not publish the name (anonymous), in the registry's words; re-run with the owner's login, the same release is listed", async () => {
    const digest = await registry.pushImage(REPO, "1.4.0", { [LABEL]: NAME });
    const dir = releasedRepo({ version: "1.4.0", digest });
    const res = await publish(dir, { MCP_REGISTRY_AUTH: "none" });
    expect(res.exitCode, res.all).toBe(1);
    expect(res.all).toContain(
      "You do not have permission to publish this server. You have permission to publish: io.modelcontextprotocol.anonymous/*. Attempting to publish: io.github.mcp-pipeline/todo.",
    );
    expect((await entry("1.4.0")).status).toBe(404);
    const report = () =>
      JSON.parse(
        readFileSync(join(dir, "pipeline-report", "report.json"), "utf8"),
      ) as PipelineReport;
    expect(report().mcpRegistry?.entry).toBeNull();

    const rerun = await publish(dir, { MCP_REGISTRY_TOKEN: await ownerToken() });
    expect(rerun.exitCode, rerun.all).toBe(0);
    expect((await entry("1.4.0")).body?.server.packages[0]?.identifier).toBe(
      `${OCI_HOST}/${REPO}:1.4.0@${digest}`,
    );
    expect(report().mcpRegistry?.entry).toBe(registryEntryUrl(NAME, "1.4.0", registry.url));
  });

  it("fails on a token the registry did not sign, in its words, without printing the token", async () => {
    const digest = await registry.pushImage(REPO, "1.5.0", { [LABEL]: NAME });
    // The owner's permissions, signed with a key that is not the registry's.
    const { privateKey } = await generateKeyPair("EdDSA");
    const forged = await new SignJWT({
      auth_method: "github-oidc",
      auth_method_sub: "mcp-pipeline",
      permissions: [{ action: "publish", resource: "io.github.mcp-pipeline/*" }],
    })
      .setProtectedHeader({ alg: "EdDSA" })
      .setIssuer("mcp-registry")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(privateKey);
    const res = await publish(releasedRepo({ version: "1.5.0", digest }), {
      MCP_REGISTRY_TOKEN: forged,
    });
    expect(res.exitCode, res.all).toBe(1);
    expect(res.all).toContain(
      "Invalid or expired Registry JWT token: failed to parse token: token signature is invalid",
    );
    expect(res.all).not.toContain(forged);
    expect((await entry("1.5.0")).status).toBe(404);
  });

  it("says why the login failed when the registry cannot be reached", async () => {
    const digest = await registry.pushImage(REPO, "1.6.0", { [LABEL]: NAME });
    const res = await publish(releasedRepo({ version: "1.6.0", digest }), {
      MCP_REGISTRY_AUTH: "none",
      MCP_REGISTRY_URL: "http://127.0.0.1:9",
    });
    expect(res.exitCode, res.all).toBe(1);
    expect(res.all).toContain("logging in to http://127.0.0.1:9 (none) failed");
    expect(res.all).toContain("connection refused");
    expect(res.all).not.toMatch(/\n\s+at /);
  });
});
