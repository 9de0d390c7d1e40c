import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { glibcNeeds, highest, hostGlibc } from "../../../src/toolchain/debian-archive/elf-glibc.js";
import { aptDebianMirror } from "../../../src/toolchain/debian-archive/mirror.js";
import {
  findPinned,
  isSafePoolPath,
  parsePackages,
} from "../../../src/toolchain/debian-archive/packages-index.js";
import {
  parseGpgvStatus,
  parseRelease,
} from "../../../src/toolchain/debian-archive/release-file.js";
import {
  compareDotted,
  libcFloor,
  matchesPin,
  upstreamVersion,
} from "../../../src/toolchain/debian-archive/version.js";

describe("the version rule", () => {
  it.each([
    ["2.40.3-3", "2.40.3"],
    ["0.29.1+ds1-4", "0.29.1"],
    ["28.5.2+dfsg4-5", "28.5.2"],
    ["1.6.20~ds1-1+deb12u3", "1.6.20"],
    ["2.5.0-2+b5", "2.5.0"],
    ["1:2.40.3-1", "2.40.3"],
    ["2.40.3", "2.40.3"],
    ["0.0~git20191202.e7afc7f-1", "0.0~git20191202.e7afc7f"],
  ])("reads %s as upstream %s", (debian, upstream) => {
    expect(upstreamVersion(debian)).toBe(upstream);
  });

  it("matches only the exact pinned upstream version", () => {
    expect(matchesPin("2.40.3-3", "2.40.3")).toBe(true);
    expect(matchesPin("0.29.1+ds1-4", "0.29.1")).toBe(true);
    expect(matchesPin("2.40.31-1", "2.40.3")).toBe(false);
    expect(matchesPin("2.40.3~rc1-1", "2.40.3")).toBe(false);
    expect(matchesPin("2.40.3+git20251101-1", "2.40.3")).toBe(false);
    expect(matchesPin("2.40.2-1", "2.40.3")).toBe(false);
  });

  it("reads the glibc a package declares it needs from Depends", () => {
    expect(libcFloor("libc6 (>= 2.34)")).toBe("2.34");
    expect(libcFloor("runc (>= 0.1.0~), libc6 (>= 2.38), libseccomp2 (>= 2.5.0)")).toBe("2.38");
    expect(libcFloor("libc6-dev (>= 2.40), tini")).toBeUndefined();
    expect(libcFloor(undefined)).toBeUndefined();
  });

  it("orders dotted versions numerically", () => {
    expect(compareDotted("2.34", "2.36")).toBe(-1);
    expect(compareDotted("2.38", "2.36")).toBe(1);
    expect(compareDotted("2.10", "2.9")).toBe(1);
    expect(compareDotted("2.36", "2.36.0")).toBe(0);
  });
});

const RELEASE = `Origin: Debian
Suite: unstable
Codename: sid
Date: Fri, 30 Oct 2026 08:08:01 UTC
Valid-Until: Fri, 06 Nov 2026 08:08:01 UTC
MD5Sum:
 d70654e4ff73403c5076a564041f1484 10824484 main/binary-amd64/Packages.xz
SHA256:
 db5df6f8c6ff9c8e2e90907c9c7bd55512715433e978d3b94600842e74c3d31b 64988655 main/binary-amd64/Packages
 28476c952cd0732e0ba28e3c14fbb9a8beb412eb2b3cb96bf9d067d54caacf1b 10824484 main/binary-amd64/Packages.xz
`;

describe("parseRelease", () => {
  it("reads the suite, its dates and the SHA256 list, ignoring MD5Sum", () => {
    const r = parseRelease(RELEASE);
    expect(r).toMatchObject({
      suite: "unstable",
      codename: "sid",
      validUntil: "Fri, 06 Nov 2026 08:08:01 UTC",
    });
    expect(r.sha256.get("main/binary-amd64/Packages.xz")).toEqual({
      sha256: "28476c952cd0732e0ba28e3c14fbb9a8beb412eb2b3cb96bf9d067d54caacf1b",
      size: 10824484,
    });
    expect(r.sha256.size).toBe(2);
  });
});

describe("parseGpgvStatus", () => {
  // What gpgv printed for sid's InRelease on 2026-12-02 (signed by the bookworm and trixie keys).
  const GOOD = `[GNUPG:] NEWSIG
[GNUPG:] KEY_CONSIDERED B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8 0
[GNUPG:] GOODSIG 6ED0E7B82643E131 Debian Archive Automatic Signing Key (12/bookworm) <ftpmaster@debian.org>
[GNUPG:] VALIDSIG 4CB50190207B4758A3F73A796ED0E7B82643E131 2026-10-30 1793347767 0 4 0 1 8 01 B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8
[GNUPG:] NEWSIG
[GNUPG:] ERRSIG 78DBA3BC47EF2265 1 8 01 1793347770 9 -
[GNUPG:] NO_PUBKEY 78DBA3BC47EF2265`;

  it("counts a valid signature by a key in the keyring, and ignores one by a key it lacks", () => {
    expect(parseGpgvStatus(GOOD)).toEqual({
      signers: [
        {
          fingerprint: "4CB50190207B4758A3F73A796ED0E7B82643E131",
          primary: "B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8",
          name: "Debian Archive Automatic Signing Key (12/bookworm) <ftpmaster@debian.org>",
        },
      ],
      bad: [],
    });
  });

  it("reports a bad signature even beside a good one", () => {
    const status = `${GOOD}\n[GNUPG:] BADSIG 6ED0E7B82643E131 Debian Archive Automatic Signing Key (12/bookworm)`;
    expect(parseGpgvStatus(status).bad).toEqual([
      "BADSIG 6ED0E7B82643E131 Debian Archive Automatic Signing Key (12/bookworm)",
    ]);
  });
});

describe("parsePackages", () => {
  const INDEX = `Package: docker-compose
Version: 2.40.3-3
Architecture: amd64
Depends: libc6 (>= 2.34)
Description: Define and run multi-container applications with Docker (program)
 A continuation line: Filename: pool/evil.deb
Filename: pool/main/d/docker-compose/docker-compose_2.40.3-3_amd64.deb
Size: 13880040
SHA256: E7603D5E6DF0F8404F7B03DA478022B87D7B50644CFFE68884B071E5CFC17FD3

Package: docker-buildx
Version: 0.29.1+ds1-4
Filename: pool/main/d/docker-buildx/docker-buildx_0.29.1+ds1-4_amd64.deb
Size: 14329652

Package: runc
Version: 1.3.6+ds1-1
Filename: pool/main/r/runc/runc_1.3.6+ds1-1_amd64.deb
Size: 1
SHA256: ${"a".repeat(64)}
`;

  it("reads each package's version, file, size and sha256, ignoring continuation lines", () => {
    const entries = parsePackages(INDEX);
    expect(entries.get("docker-compose")).toEqual([
      {
        package: "docker-compose",
        version: "2.40.3-3",
        architecture: "amd64",
        filename: "pool/main/d/docker-compose/docker-compose_2.40.3-3_amd64.deb",
        sha256: "e7603d5e6df0f8404f7b03da478022b87d7b50644cffe68884b071e5cfc17fd3",
        size: 13880040,
        depends: "libc6 (>= 2.34)",
      },
    ]);
  });

  it("leaves out a stanza it could not verify (no SHA256)", () => {
    expect(parsePackages(INDEX).has("docker-buildx")).toBe(false);
  });

  it("parses only the packages asked for", () => {
    expect([...parsePackages(INDEX, new Set(["runc"])).keys()]).toEqual(["runc"]);
  });

  it("finds the pinned version, and nothing for another", () => {
    const entries = parsePackages(INDEX);
    expect(findPinned(entries, "docker-compose", "2.40.3")?.version).toBe("2.40.3-3");
    expect(findPinned(entries, "docker-compose", "2.40.2")).toBeUndefined();
    expect(findPinned(entries, "trivy", "0.74.0")).toBeUndefined();
  });

  it("accepts pool paths and refuses paths that leave the pool", () => {
    expect(isSafePoolPath("pool/main/d/docker-buildx/docker-buildx_0.29.1+ds1-4_amd64.deb")).toBe(
      true,
    );
    expect(isSafePoolPath("pool/../../etc/passwd.deb")).toBe(false);
    expect(isSafePoolPath("/pool/main/x.deb")).toBe(false);
    expect(isSafePoolPath("http://evil.example/pool/x.deb")).toBe(false);
  });
});

describe("glibcNeeds", () => {
  it("reads the glibc versions an ELF binary needs, as objdump -T lists them", () => {
    const needs = glibcNeeds(process.execPath);
    expect(needs).toContain("2.2.5");
    // binutils is not on every machine; where it is, both must agree.
    const objdump = execFileSync("sh", [
      "-c",
      `objdump -T '${process.execPath}' 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -u || true`,
    ])
      .toString()
      .split("\n")
      .filter(Boolean)
      .map((s) => s.slice("GLIBC_".length));
    if (objdump.length) expect(needs).toEqual(objdump.sort(compareDotted));
    // It runs here, so the machine's glibc covers the highest of them.
    expect(compareDotted(highest(needs) ?? "0", hostGlibc() ?? "0")).toBeLessThanOrEqual(0);
  });

  it("finds no glibc needs in a script", () => {
    const dir = mkdtempSync(join(tmpdir(), "elf-"));
    try {
      writeFileSync(join(dir, "s"), "#!/bin/sh\necho GLIBC_9.99\n");
      expect(glibcNeeds(join(dir, "s"))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("aptDebianMirror", () => {
  let etc: string | undefined;
  afterEach(() => etc && rmSync(etc, { recursive: true, force: true }));

  it("takes the first Debian source of a release suite, skipping third-party repositories", () => {
    etc = mkdtempSync(join(tmpdir(), "apt-"));
    mkdirSync(join(etc, "sources.list.d"));
    writeFileSync(
      join(etc, "sources.list.d", "a-nodesource.sources"),
      "Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\nComponents: main\nSigned-By: /usr/share/keyrings/nodesource.gpg\n",
    );
    writeFileSync(
      join(etc, "sources.list.d", "debian.sources"),
      "Types: deb\nURIs: http://mirror.example.test/debian-security\nSuites: bookworm-security\nComponents: main\n\n" +
        "Types: deb\nURIs: http://mirror.example.test/debian/\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
    );
    expect(aptDebianMirror(etc)).toBe("http://mirror.example.test/debian");
  });

  it("reads one-line sources.list entries", () => {
    etc = mkdtempSync(join(tmpdir(), "apt-"));
    writeFileSync(
      join(etc, "sources.list"),
      "# a comment\ndeb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/debian bookworm stable\ndeb http://ftp.example.test/debian bookworm main\n",
    );
    expect(aptDebianMirror(etc)).toBe("http://ftp.example.test/debian");
  });

  it("finds none when apt has no Debian source", () => {
    etc = mkdtempSync(join(tmpdir(), "apt-"));
    expect(aptDebianMirror(etc)).toBeUndefined();
  });
});
