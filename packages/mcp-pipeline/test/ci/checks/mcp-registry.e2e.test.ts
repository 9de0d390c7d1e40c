import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../toolchain/helpers.js";
import {
  auth,
  configVariant,
  contextVariant,
  gateRuns,
  scratchDir,
  skipAllBut,
} from "../pipeline-harness.js";

// The mcp-registry gate on images the real pipeline builds for both platforms (the registry reads
// one platform's label; the gate reads every one's). Each variant is the project's Dockerfile or
// server.json with one defect; the control is the same run without it, and it publishes.
const BOTH = { PIPELINE_PLATFORMS: "linux/amd64,linux/arm64" };
const gate = gateRuns(skipAllBut("mcp-registry"), BOTH);
const NAME = "io.github.mcp-pipeline/mcp-pipeline";

/** The repository's server.json changed by `edit`, in a scratch directory; returns its path. */
function serverJsonVariant(name: string, edit: (doc: Record<string, unknown>) => void): string {
  const doc = JSON.parse(readFileSync(join(repoRoot, "server.json"), "utf8")) as Record<
    string,
    unknown
  >;
  edit(doc);
  const file = join(scratchDir(name), "server.json");
  writeFileSync(file, JSON.stringify(doc, null, 2));
  return file;
}

/** The run's config with `mcp.registry` set to `registry`. */
const withRegistry = (name: string, registry: Record<string, unknown>) =>
  configVariant(name, (doc) => doc.setIn(["mcp", "registry"], doc.createNode(registry)));

describe("the mcp-registry gate", () => {
  it("passes the project's image, labelled on both platforms from server.json, which then publishes (the control)", async () => {
    const run = await gate.expectControlPublishes();
    const result = run.report.checks.find((c) => c.id === "mcp-registry");
    expect(result?.status).toBe("passed");
    expect(result?.summary).toBe(
      `linux/amd64: ${NAME} 0.1.0: server.json is valid and the image carries its name; linux/arm64: ${NAME} 0.1.0: server.json is valid and the image carries its name`,
    );
    expect(run.report.mcpRegistry).toEqual({ name: NAME, entry: null });
    const markdown = readFileSync(join(run.reportDir, "report.md"), "utf8");
    expect(markdown).toContain(`- MCP Registry name: \`${NAME}\``);
    expect(markdown).toContain(`- Image: \`${run.repository}@${run.report.image.digest}\``);
  });

  it("fails an image whose arm64 variant lacks the label, naming that platform alone", async () => {
    // A per-architecture final stage that forgot the label on one of them.
    const perArch = (t: string) => {
      const stages = t.replace(
        "FROM runtime AS mcp-server\n",
        "FROM runtime AS mcp-server-arm64\nFROM runtime AS mcp-server-amd64\n",
      );
      return `${stages}\nFROM mcp-server-\${TARGETARCH} AS mcp-server\n`;
    };
    const run = await gate.run(contextVariant("label-on-amd64-only", perArch));
    const result = await gate.expectTripped(run, "mcp-registry");
    expect(result.summary).toBe(
      "linux/arm64: the image has no io.modelcontextprotocol.server.name label",
    );
    expect(result.details.join("\n")).toMatch(/\[linux\/amd64\] passed/);
    expect(result.details.join("\n")).toMatch(/ARG MCP_SERVER_NAME/);
  });

  it("labels the image with whatever name server.json has, and fails an identifier on a registry outside the allowlist until the config allows it", async () => {
    if (!auth) throw new Error("run `mcp-pipeline setup` first");
    const renamed = "io.github.example-owner/renamed-server";
    const file = serverJsonVariant("local-identifier", (doc) => {
      doc.name = renamed;
      const [pkg] = doc.packages as Record<string, unknown>[];
      if (pkg) pkg.identifier = `${auth?.address}/example-owner/renamed-server:0.1.0`;
    });
    const refused = await gate.run(withRegistry("upstream-list", { serverJson: file }));
    const result = await gate.expectTripped(refused, "mcp-registry");
    expect(result.summary).toMatch(
      new RegExp(
        `^linux/amd64: ${file.replaceAll(/[.*+?^${}()|[\]\\]/g, "\\$&")}: packages\\[0\\]\\.identifier ${auth.address.replaceAll(".", "\\.")} is not an OCI registry the MCP Registry accepts`,
      ),
    );
    // The label followed server.json: only the identifier was wrong.
    expect(result.details.join("\n")).toContain(`io.modelcontextprotocol.server.name=${renamed}`);

    const allowed = await gate.run(
      withRegistry("local-list", { serverJson: file, allowedRegistries: [auth.address] }),
    );
    expect(allowed.exitCode, allowed.output.slice(-3000)).toBe(0);
    expect(allowed.report.checks.find((c) => c.id === "mcp-registry")?.status).toBe("passed");
    expect(allowed.report.mcpRegistry?.name).toBe(renamed);
  });

  it("skips an MCP server without server.json, saying how to become listable, and still publishes", async () => {
    const run = await gate.run(withRegistry("no-server-json", { serverJson: "absent.json" }));
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    const result = run.report.checks.find((c) => c.id === "mcp-registry");
    expect(result?.status).toBe("skipped");
    expect(result?.summary).toBe(
      "linux/amd64: no absent.json: the image cannot be listed in the MCP Registry; linux/arm64: no absent.json: the image cannot be listed in the MCP Registry",
    );
    expect(result?.details.join("\n")).toMatch(/"registryType": "oci"/);
    expect(run.report.mcpRegistry).toBeUndefined();
    expect(run.report.published.length).toBeGreaterThan(0);
  });
});
