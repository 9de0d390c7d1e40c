import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ToolchainError, ToolchainErrorCode } from "../../../src/host/errors.js";
import {
  type ArchiveOptions,
  type ArchiveTool,
  DEBIAN_ARCHIVE_KEYRING,
  installFromDebianArchive,
} from "../../../src/toolchain/debian-archive/install.js";
import { loadSettings, toolchainPaths } from "../../../src/toolchain/settings.js";
import { goToolSteps, tryDebianArchive } from "../../../src/toolchain/steps/go-tools.js";
import { goTools, versions } from "../../../src/toolchain/versions.js";
import { FakeArchive } from "./fake-archive.js";

const archive = new FakeArchive();
beforeAll(() => archive.start(), 60_000);
afterAll(() => archive.stop());

const MEMBER = "usr/libexec/docker/cli-plugins/docker-compose";
const tool: ArchiveTool = {
  tool: "docker-compose",
  package: "docker-compose",
  member: MEMBER,
  version: "2.40.3",
  suites: ["sid"],
  versionArgs: ["version"],
};
const publishCompose = (overrides: { version?: string; says?: string; depends?: string } = {}) =>
  archive.publish({
    suite: "sid",
    pkg: "docker-compose",
    version: overrides.version ?? "2.40.3-3",
    member: MEMBER,
    says: overrides.says ?? "Docker Compose version 2.40.3-3",
    ...(overrides.depends ? { depends: overrides.depends } : {}),
  });

let root: string;
let options: ArchiveOptions;
beforeEach(() => {
  archive.requests.length = 0;
  root = mkdtempSync(join(tmpdir(), "archive-install-test-"));
  options = {
    mirror: archive.url,
    keyring: archive.keyring,
    arch: "amd64",
    glibc: "2.36",
    downloads: join(root, "downloads"),
    dest: join(root, "bin", "docker-compose"),
    env: process.env,
    logFile: join(root, "log"),
    note: () => {},
  };
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function failure(promise: Promise<unknown>): Promise<ToolchainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ToolchainError);
  return error as ToolchainError;
}

/** Flips the bits of one byte: a download changed on its way. */
function flip(bytes: Buffer, at: number): void {
  bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
}

/** Nothing in bin/, and no scratch directory left behind. */
function expectNothingInstalled(): void {
  expect(existsSync(options.dest)).toBe(false);
  const left = existsSync(options.downloads) ? readdirSync(options.downloads) : [];
  expect(left.filter((f) => f.startsWith("verify-"))).toEqual([]);
}

describe("installFromDebianArchive", () => {
  it("installs the binary of the pinned version and records the whole chain it checked", async () => {
    const { debPath } = publishCompose();
    const outcome = await installFromDebianArchive(tool, options);
    expect(outcome.installed).toBe(true);
    expect(existsSync(options.dest)).toBe(true);
    if (!outcome.installed) return;
    expect(outcome.provenance).toMatchObject({
      tool: "docker-compose",
      source: "debian-archive",
      asset: "docker-compose_2.40.3-3_amd64.deb",
      url: `${archive.url}/${debPath}`,
      checksumSource: `${archive.url}/dists/sid/InRelease → main/binary-amd64/Packages.xz`,
      signature: { verified: true, by: expect.stringContaining("Test Archive Signing Key") },
      archive: { suite: "sid", package: "docker-compose", version: "2.40.3-3" },
    });
    // The binary is in place; the scratch directory it came through is gone.
    expect(readdirSync(options.downloads).filter((f) => f.startsWith("verify-"))).toEqual([]);
  });

  it("reuses a verified index kept from an earlier run, checking it again", async () => {
    publishCompose();
    await installFromDebianArchive(tool, options);
    archive.requests.length = 0;
    rmSync(options.dest);
    await installFromDebianArchive(tool, options);
    expect(archive.requests).toContain("/debian/dists/sid/InRelease");
    expect(archive.requests).not.toContain("/debian/dists/sid/main/binary-amd64/Packages.xz");
  });

  it("fails naming the Packages index when it does not match the hash InRelease lists, installing nothing", async () => {
    const { indexPath } = publishCompose();
    const tampered = Buffer.from(archive.served(`dists/sid/${indexPath}`));
    flip(tampered, tampered.length - 20);
    archive.serve(`dists/sid/${indexPath}`, tampered);
    const error = await failure(installFromDebianArchive(tool, options));
    expect(error.code).toBe(ToolchainErrorCode.Integrity);
    expect(error.message).toMatch(/sid's main\/binary-amd64\/Packages\.xz: sha256 mismatch/);
    expect(error.message).toContain("/dists/sid/InRelease lists");
    expect(error.hint).toMatch(/Nothing was installed/);
    expectNothingInstalled();
  });

  it("fails naming the .deb when its sha256 is not the one the index lists, installing nothing", async () => {
    const { debPath } = publishCompose();
    const deb = Buffer.from(archive.served(debPath));
    flip(deb, deb.length - 10);
    archive.serve(debPath, deb);
    const error = await failure(installFromDebianArchive(tool, options));
    expect(error.code).toBe(ToolchainErrorCode.Integrity);
    expect(error.message).toMatch(
      /^docker-compose_2\.40\.3-3_amd64\.deb: sha256 mismatch — sid's main\/binary-amd64\/Packages\.xz lists [0-9a-f]{64}/,
    );
    expectNothingInstalled();
  });

  it("fails naming InRelease when its signed text was changed, installing nothing", async () => {
    publishCompose();
    const signed = archive.served("dists/sid/InRelease").toString();
    archive.serve(
      "dists/sid/InRelease",
      Buffer.from(signed.replace("Origin: Test", "Origin: Tess")),
    );
    const error = await failure(installFromDebianArchive(tool, options));
    expect(error.code).toBe(ToolchainErrorCode.Integrity);
    expect(error.message).toMatch(
      /\/dists\/sid\/InRelease: the signature does not verify .*BADSIG/,
    );
    expect(archive.requests).not.toContain("/debian/dists/sid/main/binary-amd64/Packages.xz");
    expectNothingInstalled();
  });

  it("fails when InRelease is signed by a key that is not in the keyring, installing nothing", async () => {
    const { release } = publishCompose();
    archive.serve("dists/sid/InRelease", archive.sign(release, "other"));
    const error = await failure(installFromDebianArchive(tool, options));
    expect(error.message).toMatch(
      /InRelease: the signature does not verify against .*archive-keyring\.gpg/,
    );
    expectNothingInstalled();
  });

  it("refuses an InRelease with unsigned text after its signature", async () => {
    publishCompose();
    const signed = archive.served("dists/sid/InRelease").toString();
    archive.serve(
      "dists/sid/InRelease",
      Buffer.from(`${signed}\nSHA256:\n ${"1".repeat(64)} 1 x\n`),
    );
    const error = await failure(installFromDebianArchive(tool, options));
    expect(error.message).toMatch(/is not one clearsigned message/);
    expectNothingInstalled();
  });

  it("is not installed, listing what each suite has, when no suite has the pinned version", async () => {
    publishCompose({ version: "2.41.0-1", says: "Docker Compose version 2.41.0-1" });
    const outcome = await installFromDebianArchive({ ...tool, suites: ["sid", "forky"] }, options);
    expect(outcome).toEqual({
      installed: false,
      reason: expect.stringMatching(
        /no usable docker-compose 2\.40\.3 \(sid: 2\.41\.0-1; forky: .*\/dists\/forky\/InRelease: GET .* answered 404\)/,
      ),
    });
    expectNothingInstalled();
  });

  it("does not download a package whose Depends asks for a newer glibc than the machine has", async () => {
    const { debPath } = publishCompose({ depends: "libc6 (>= 2.38), libseccomp2 (>= 2.5.0)" });
    const outcome = await installFromDebianArchive(tool, options);
    expect(outcome).toEqual({
      installed: false,
      reason: expect.stringContaining("needs glibc ≥ 2.38, this machine has 2.36"),
    });
    expect(archive.requests).not.toContain(`/debian/${debPath}`);
    expectNothingInstalled();
  });

  it("is not installed when the packaged binary needs a newer glibc than the machine has", async () => {
    archive.publish({
      suite: "sid",
      pkg: "docker-compose",
      version: "2.40.3-3",
      member: MEMBER,
      says: "",
      // Depends names no glibc version here, so only the ELF check can tell.
      depends: "libc6",
      binary: readFileSync("/usr/bin/true"),
    });
    const outcome = await installFromDebianArchive(tool, { ...options, glibc: "2.1" });
    expect(outcome).toEqual({
      installed: false,
      reason: expect.stringMatching(
        /^docker-compose from docker-compose_2\.40\.3-3_amd64\.deb needs glibc 2\.\d+, this machine has 2\.1$/,
      ),
    });
    expectNothingInstalled();
  });

  it("is not installed when the packaged binary reports another version than the pin", async () => {
    publishCompose({ says: "Docker Compose version 9.9.9" });
    const outcome = await installFromDebianArchive(tool, options);
    expect(outcome).toEqual({
      installed: false,
      reason: expect.stringContaining('reports "Docker Compose version 9.9.9", not 2.40.3'),
    });
    expectNothingInstalled();
  });
});

describe("tryDebianArchive", () => {
  const compose = goTools.find((t) => t.name === "docker-compose");
  if (!compose) throw new Error("docker-compose is not in goTools");

  const context = (debianMirror: string) => {
    const paths = toolchainPaths({ MCP_PIPELINE_CACHE: join(root, "cache") });
    return {
      paths,
      settings: loadSettings({ DEBIAN_MIRROR: debianMirror }),
      env: process.env,
      logFile: join(root, "log"),
      note: () => {},
    };
  };

  it("turns a failed check into a one-line reason for building instead, with nothing installed", async () => {
    const { debPath } = publishCompose({ says: `Docker Compose version ${versions.compose}-3` });
    archive.serve(debPath, Buffer.from("not the package"));
    const ctx = context(archive.url);
    const outcome = await tryDebianArchive(ctx, compose, { keyring: archive.keyring });
    expect(outcome.installed).toBe(false);
    if (outcome.installed) return;
    expect(outcome.reason).toMatch(
      /^Debian's archive was not used: docker-compose_.*\.deb: sha256 mismatch/,
    );
    expect(outcome.reason).not.toMatch(/\n\s+at /);
    expect(existsSync(join(ctx.paths.bin, "docker-compose"))).toBe(false);
  });

  it("installs compose from the archive the settings name", async () => {
    publishCompose({
      version: `${versions.compose}-3`,
      says: `Docker Compose version ${versions.compose}-3`,
    });
    const ctx = context(archive.url);
    const outcome = await tryDebianArchive(ctx, compose, { keyring: archive.keyring });
    expect(outcome.installed).toBe(true);
    expect(existsSync(join(ctx.paths.bin, "docker-compose"))).toBe(true);
  });

  it("does not look at the archive when DEBIAN_MIRROR=off", async () => {
    const outcome = await tryDebianArchive(context("off"), compose, { keyring: archive.keyring });
    expect(outcome).toEqual({ installed: false, reason: "DEBIAN_MIRROR=off" });
    expect(archive.requests).toEqual([]);
  });

  it("says Debian does not package a tool that has no Debian entry", async () => {
    const cosign = goTools.find((t) => t.name === "cosign");
    if (!cosign) throw new Error("cosign is not in goTools");
    expect(await tryDebianArchive(context(archive.url), cosign)).toEqual({
      installed: false,
      reason: "Debian does not package it",
    });
  });
});

describe("the compose step, air-gapped", () => {
  it("refuses an archive Debian's keyring did not sign, warns why, and builds from the Go module proxy instead", async () => {
    publishCompose({
      version: `${versions.compose}-3`,
      says: `Docker Compose version ${versions.compose}-3`,
    });
    const step = goToolSteps.find((s) => s.id === "docker-compose");
    if (!step) throw new Error("no docker-compose step");
    const env = {
      ...process.env,
      MCP_PIPELINE_CACHE: join(root, "cache"),
      DEBIAN_MIRROR: archive.url,
      // The Go build must fail at once here, not compile for minutes: no proxy, an empty module cache.
      GOPROXY: "off",
      GOMODCACHE: join(root, "gomod"),
      GOFLAGS: "-mod=mod",
    };
    const paths = toolchainPaths(env);
    const warnings: string[] = [];
    const notes: string[] = [];
    const run = step.run({
      mode: "airgap",
      paths,
      settings: loadSettings(env),
      needs: { authRegistry: false },
      env,
      logFile: join(root, "log"),
      note: (n) => notes.push(n),
      warn: (w) => warnings.push(w),
    });
    await expect(run).rejects.toThrow();
    // Where the machine has no Debian keyring (an Ubuntu runner) the archive is not tried at all.
    const refused = existsSync(DEBIAN_ARCHIVE_KEYRING)
      ? /^Debian's archive was not used: .*\/dists\/sid\/InRelease: the signature does not verify against \/usr\/share\/keyrings\/debian-archive-keyring\.gpg .*; building from the Go module proxy$/
      : /^no Debian archive keyring at .*; building from the Go module proxy$/;
    expect(warnings).toEqual([expect.stringMatching(refused)]);
    expect(notes).toContain(`resolve github.com/docker/compose/v2@v${versions.compose}`);
    expect(existsSync(join(paths.bin, "docker-compose"))).toBe(false);
  });
});
