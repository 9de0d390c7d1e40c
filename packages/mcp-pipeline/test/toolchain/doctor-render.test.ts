import { describe, expect, it } from "vitest";
import { provenanceLine } from "../../src/toolchain/doctor.js";
import type { Provenance } from "../../src/toolchain/state.js";

const fromDebian: Provenance = {
  tool: "docker-compose",
  source: "debian-archive",
  asset: "docker-compose_2.40.3-3_amd64.deb",
  url: "http://deb.debian.org/debian/pool/main/d/docker-compose/docker-compose_2.40.3-3_amd64.deb",
  sha256: "e7603d5e6df0f8404f7b03da478022b87d7b50644cffe68884b071e5cfc17fd3",
  checksumSource:
    "http://deb.debian.org/debian/dists/sid/InRelease → main/binary-amd64/Packages.xz",
  signature: {
    verified: true,
    by: "Debian Archive Automatic Signing Key (13/trixie) <ftpmaster@debian.org> [04B54C3CDCA79751B16BC6B5225629DF75B188BD]",
  },
  archive: {
    suite: "sid",
    package: "docker-compose",
    version: "2.40.3-3",
    validUntil: "Fri, 06 Nov 2026 08:08:01 UTC",
    binarySha256: "dd6df73493b5d886658718f07afbe3df68b761b4e74850ae5d329e204acf4f0e",
  },
  at: "2026-12-02T10:54:14.510Z",
};

describe("provenanceLine", () => {
  it("shows a Debian package's suite, version, index and signer", () => {
    const line = provenanceLine(fromDebian);
    expect(line).toContain(
      "docker-compose debian-archive verified docker-compose_2.40.3-3_amd64.deb",
    );
    expect(line).toContain(
      "(Debian sid docker-compose 2.40.3-3, index valid until Fri, 06 Nov 2026",
    );
    expect(line).toContain(
      "sha256 e7603d5e6df0… against http://deb.debian.org/debian/dists/sid/InRelease",
    );
    expect(line).toContain("signature verified (Debian Archive Automatic Signing Key (13/trixie)");
  });

  it("says nothing of validity while the index was current", () => {
    const current = { ...fromDebian, at: "2026-11-01T00:00:00.000Z" };
    expect(provenanceLine(current)).toContain("(Debian sid docker-compose 2.40.3-3) sha256");
  });

  it("keeps the line of a Go build as it was", () => {
    const built: Provenance = {
      tool: "trivy",
      source: "go-build",
      asset: "github.com/aquasecurity/trivy@v0.74.0",
      sha256: "a".repeat(64),
      checksumSource: "go.sum and the Go checksum database, checked by `go`",
      at: "2026-12-02T10:00:00.000Z",
    };
    expect(provenanceLine(built)).toBe(
      "  trivy          go-build       built from github.com/aquasecurity/trivy@v0.74.0 sha256 aaaaaaaaaaaa… against go.sum and the Go checksum database, checked by `go`",
    );
  });

  it("keeps a space between a long tool name and its source", () => {
    const shim: Provenance = { ...fromDebian, tool: "containerd-shim-runc-v2" };
    expect(provenanceLine(shim)).toMatch(/^ {2}containerd-shim-runc-v2 debian-archive +verified /);
  });
});
