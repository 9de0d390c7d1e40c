import { describe, expect, it } from "vitest";
import {
  isDuplicateVersion,
  publishableServerJson,
  publisherReason,
  ServerJsonNotPublishableError,
} from "../../../src/ci/mcp/registry-publish.js";

const DIGEST = `sha256:${"a".repeat(64)}`;

function serverJson(identifiers: string[], version = "1.2.0"): string {
  return JSON.stringify({
    name: "io.github.o/r",
    version,
    description: "d",
    packages: [
      ...identifiers.map((identifier) => ({
        registryType: "oci",
        identifier,
        transport: { type: "stdio" },
      })),
      { registryType: "npm", identifier: "r", version: "1.2.0", transport: { type: "stdio" } },
    ],
  });
}

describe("publishableServerJson", () => {
  it("pins the OCI package the release pushed to its tag and digest, and leaves the rest as committed", () => {
    const out = publishableServerJson(serverJson(["ghcr.io/o/r:1.2.0", "ghcr.io/o/other:1.2.0"]), {
      published: ["ghcr.io/o/r:1.2.0", "ghcr.io/o/r:latest"],
      digest: DIGEST,
    });
    expect(out.identifiers).toEqual([`ghcr.io/o/r:1.2.0@${DIGEST}`]);
    const doc = JSON.parse(out.text);
    expect(doc.packages.map((p: { identifier: string }) => p.identifier)).toEqual([
      `ghcr.io/o/r:1.2.0@${DIGEST}`,
      "ghcr.io/o/other:1.2.0",
      "r",
    ]);
    expect(doc.packages[2].version).toBe("1.2.0");
    expect({ name: out.name, version: out.version }).toEqual({
      name: "io.github.o/r",
      version: "1.2.0",
    });
  });

  it("reads Docker Hub's spellings of one repository as the same", () => {
    const out = publishableServerJson(serverJson(["index.docker.io/o/r:1.2.0"]), {
      published: ["docker.io/o/r:1.2.0"],
      digest: DIGEST,
    });
    expect(out.identifiers).toEqual([`index.docker.io/o/r:1.2.0@${DIGEST}`]);
  });

  it("refuses, saying what each side names, when no OCI package names a tag the release pushed", () => {
    expect(() =>
      publishableServerJson(serverJson(["ghcr.io/o/r:1.1.0"]), {
        published: ["ghcr.io/o/r:1.2.0"],
        digest: DIGEST,
      }),
    ).toThrow(
      "no OCI package of server.json names an image this release pushed (server.json names ghcr.io/o/r:1.1.0; the release pushed ghcr.io/o/r:1.2.0)",
    );
  });

  it("refuses a server.json without an OCI package, or that is not JSON", () => {
    expect(() =>
      publishableServerJson(serverJson([]), { published: ["ghcr.io/o/r:1"], digest: DIGEST }),
    ).toThrow("server.json lists no OCI package");
    expect(() => publishableServerJson("{", { published: [], digest: DIGEST })).toThrow(
      ServerJsonNotPublishableError,
    );
    expect(() => publishableServerJson('{"name": 1}', { published: [], digest: DIGEST })).toThrow(
      "not an object with a string name and version",
    );
  });
});

describe("publisherReason", () => {
  it("takes the registry's detail and messages from its JSON problem", () => {
    const output = [
      "Publishing io.github.o/r@1.0.0 to http://127.0.0.1:1...",
      'Error: publish failed: server returned status 400: {"title":"Bad Request","status":400,"detail":"Failed to publish server","errors":[{"message":"invalid version: cannot publish duplicate version: io.github.o/r@1.0.0 already exists"}]}',
    ].join("\n");
    const reason = publisherReason(output);
    expect(reason).toBe(
      "Failed to publish server: invalid version: cannot publish duplicate version: io.github.o/r@1.0.0 already exists (HTTP 400)",
    );
    expect(isDuplicateVersion(reason)).toBe(true);
  });

  it("keeps the validation issues mcp-publisher prints for a 422, without its progress lines", () => {
    const output = [
      "Publishing io.github.o/r@^1 to http://127.0.0.1:1...",
      "Validation failed. Checking detailed validation errors...",
      "",
      "❌ Validation failed with 1 issue(s):",
      "1. [error] version (semantic)",
      '   version must be a specific version, not a range: "^1"',
      "Error: validation failed",
    ].join("\n");
    const reason = publisherReason(output);
    expect(reason).toContain('version must be a specific version, not a range: "^1"');
    expect(reason).not.toContain("Publishing");
    expect(isDuplicateVersion(reason)).toBe(false);
  });

  it("says the publisher's own error when the registry sent none", () => {
    expect(
      publisherReason("Logging in with none...\nError: login failed: connection refused\n"),
    ).toBe("login failed: connection refused");
    expect(publisherReason("")).toBe("mcp-publisher failed without saying why");
  });
});
