import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type RegistryInputs, registryOutcome } from "../../../src/ci/checks/mcp-registry.js";
import { UPSTREAM_OCI_REGISTRIES } from "../../../src/ci/config/schema.js";
import { REPO_ROOT } from "../../paths.js";

// The gate's verdict from what it read: the repository's server.json and a correctly labelled
// image are the control; each case changes one input.
const NAME = "io.github.mcp-pipeline/mcp-pipeline";
const text = readFileSync(join(REPO_ROOT, "server.json"), "utf8");
const inputs = (change: Partial<RegistryInputs> = {}): RegistryInputs => ({
  file: "server.json",
  text,
  allowedRegistries: UPSTREAM_OCI_REGISTRIES,
  release: undefined,
  publishing: undefined,
  labels: { "io.modelcontextprotocol.server.name": NAME },
  ...change,
});

describe("the mcp-registry gate's verdict", () => {
  it("passes the repository's server.json and an image labelled with its name (the control)", () => {
    const outcome = registryOutcome(inputs());
    expect(outcome.status).toBe("passed");
    expect(outcome.summary).toBe(
      `${NAME} 0.1.0: server.json is valid and the image carries its name`,
    );
    expect(outcome.details).toContain(
      "OCI package: ghcr.io/mcp-pipeline/mcp-pipeline:0.1.0 (registry ghcr.io)",
    );
  });

  it("skips, saying how to become listable, when there is no server.json", () => {
    const outcome = registryOutcome(inputs({ text: undefined }));
    expect(outcome.status).toBe("skipped");
    expect(outcome.summary).toBe("no server.json: the image cannot be listed in the MCP Registry");
    expect(outcome.details.join("\n")).toMatch(/ARG MCP_SERVER_NAME/);
  });

  it("fails an image without the label, saying how to add it", () => {
    const outcome = registryOutcome(inputs({ labels: { other: "x" } }));
    expect(outcome.status).toBe("failed");
    expect(outcome.summary).toBe("the image has no io.modelcontextprotocol.server.name label");
    expect(outcome.details).toContain(
      `  LABEL io.modelcontextprotocol.server.name="\${MCP_SERVER_NAME}"`,
    );
  });

  it("fails a server.json the registry refuses, naming the field, the count and the source", () => {
    const doc = JSON.parse(text);
    doc.packages[0].version = "0.1.0";
    doc.version = "latest";
    const outcome = registryOutcome(inputs({ text: JSON.stringify(doc) }));
    expect(outcome.status).toBe("failed");
    expect(outcome.summary).toMatch(
      /^server\.json: version `latest` is reserved; give the exact version \(and 1 more\)$/,
    );
    expect(outcome.details).toContain(
      "server.json: packages[0].version: OCI packages must not have version: put the registry and the version in identifier (e.g. ghcr.io/owner/repo:1.0.0) [the MCP Registry refuses this too]",
    );
  });

  it("fails a server.json that cannot be read as one, without judging the label", () => {
    const outcome = registryOutcome(inputs({ text: "{ nope", labels: undefined }));
    expect(outcome.status).toBe("failed");
    expect(outcome.summary).toMatch(/^server\.json: is not JSON: /);
    expect(outcome.summary).not.toMatch(/label/);
  });

  it("fails a release of another version, and reports both a bad file and a bad label at once", () => {
    const release = registryOutcome(inputs({ release: { version: "0.2.0", previous: "0.1.0" } }));
    expect(release.status).toBe("failed");
    expect(release.summary).toMatch(
      /^server\.json: version is 0\.1\.0, but this run releases 0\.2\.0/,
    );
    const both = registryOutcome(
      inputs({ release: { version: "0.2.0", previous: undefined }, labels: null }),
    );
    expect(both.summary).toMatch(
      /releases 0\.2\.0.*; the image has no io\.modelcontextprotocol\.server\.name label$/,
    );
  });
});
