import { describe, expect, it } from "vitest";
import { mirrored, releaseAsset } from "../../src/toolchain/releases.js";
import { versions } from "../../src/toolchain/versions.js";

describe("releaseAsset", () => {
  it("names Trivy's archive, checksums and signature bundle as its GoReleaser config does", () => {
    const trivy = releaseAsset("trivy", "amd64");
    const base = `https://github.com/aquasecurity/trivy/releases/download/v${versions.trivy}`;
    expect(trivy.url).toBe(`${base}/trivy_${versions.trivy}_Linux-64bit.tar.gz`);
    expect(trivy.checksumsUrl).toBe(`${base}/trivy_${versions.trivy}_checksums.txt`);
    expect(trivy.signature).toEqual({
      bundleUrl: `${base}/trivy_${versions.trivy}_checksums.txt.sigstore.json`,
      identity: `https://github.com/aquasecurity/trivy/.github/workflows/reusable-release.yaml@refs/tags/v${versions.trivy}`,
      issuer: "https://token.actions.githubusercontent.com",
    });
  });

  it("takes the Dagger CLI and its checksums.txt from dl.dagger.io", () => {
    const dagger = releaseAsset("dagger", "amd64");
    expect(dagger.url).toBe(
      `https://dl.dagger.io/dagger/releases/${versions.dagger}/dagger_v${versions.dagger}_linux_amd64.tar.gz`,
    );
    expect(dagger.checksumsUrl).toBe(
      `https://dl.dagger.io/dagger/releases/${versions.dagger}/checksums.txt`,
    );
  });

  it("uses each project's own architecture names", () => {
    expect(releaseAsset("docker-compose", "arm64").asset).toBe("docker-compose-linux-aarch64");
    expect(releaseAsset("docker-buildx", "arm64").asset).toBe(
      `buildx-v${versions.buildx}.linux-arm64`,
    );
    expect(releaseAsset("cosign", "amd64").checksumsUrl).toMatch(/\/cosign_checksums\.txt$/);
  });

  it("refuses a tool it has no release for", () => {
    expect(() => releaseAsset("kubectl", "amd64")).toThrow(/No release download for kubectl/);
  });
});

describe("mirrored", () => {
  it("rewrites https://<host>/<path> to <mirror>/<host>/<path>", () => {
    expect(
      mirrored("https://github.com/docker/compose/releases/download/v1/x", "http://m.local/base/"),
    ).toBe("http://m.local/base/github.com/docker/compose/releases/download/v1/x");
    expect(mirrored("https://dl.dagger.io/dagger/releases/1/c.txt", "https://a.b")).toBe(
      "https://a.b/dl.dagger.io/dagger/releases/1/c.txt",
    );
  });

  it("leaves the URL alone without a mirror", () => {
    expect(mirrored("https://dl.dagger.io/x", undefined)).toBe("https://dl.dagger.io/x");
  });
});
