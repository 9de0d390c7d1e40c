import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256Of } from "../../../src/toolchain/checksums.js";

/**
 * A Debian archive on loopback, signed by a throwaway key: the far edge the archive tests fake.
 * `publish` lays out one suite (InRelease, Packages.xz, one .deb in the pool) and returns hooks
 * to tamper with what is served afterwards.
 */
export class FakeArchive {
  readonly root = mkdtempSync(join(tmpdir(), "fake-debian-archive-"));
  /** A keyring holding the signing key's public half: what gpgv is given. */
  readonly keyring = join(this.root, "archive-keyring.gpg");
  /** A keyring of a key that signs nothing here. */
  readonly otherKeyring = join(this.root, "other-keyring.gpg");
  readonly files = new Map<string, Buffer | number>();
  readonly requests: string[] = [];
  private server: Server | undefined;
  private readonly home = join(this.root, "gnupg");
  private readonly otherHome = join(this.root, "gnupg-other");
  url = "";

  async start(): Promise<void> {
    for (const [home, ring, name] of [
      [this.home, this.keyring, "Test Archive Signing Key"],
      [this.otherHome, this.otherKeyring, "Someone Else"],
    ] as const) {
      mkdirSync(home, { recursive: true, mode: 0o700 });
      this.gpg(home, [
        "--quick-gen-key",
        `${name} <archive@example.test>`,
        "ed25519",
        "sign",
        "never",
      ]);
      writeFileSync(ring, this.gpg(home, ["--export"]));
    }
    this.server = createServer((req, res) => {
      this.requests.push(req.url ?? "");
      const body = this.files.get(req.url ?? "");
      if (body === undefined || typeof body === "number") {
        res.writeHead(typeof body === "number" ? body : 404).end();
        return;
      }
      res.writeHead(200).end(body);
    });
    const server = this.server;
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/debian`;
  }

  async stop(): Promise<void> {
    // gpg started an agent per home; it must not outlive the tests.
    for (const home of [this.home, this.otherHome])
      execFileSync("gpgconf", ["--homedir", home, "--kill", "all"], { stdio: "ignore" });
    await new Promise<void>((done) => (this.server ? this.server.close(() => done()) : done()));
    rmSync(this.root, { recursive: true, force: true });
  }

  private gpg(home: string, args: string[], input?: Buffer): Buffer {
    return execFileSync(
      "gpg",
      ["--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", "", ...args],
      { input, stdio: ["pipe", "pipe", "ignore"] },
    );
  }

  /** A clearsigned InRelease of `release`, by the archive key or by `other`. */
  sign(release: string, by: "archive" | "other" = "archive"): Buffer {
    return this.gpg(
      by === "archive" ? this.home : this.otherHome,
      ["--clearsign"],
      Buffer.from(release),
    );
  }

  /**
   * Publishes `suite` with one package whose binary at `member` is a script printing `says`.
   * Returns the pieces so a test can tamper with them and serve them again.
   */
  publish(opts: {
    suite: string;
    pkg: string;
    version: string;
    member: string;
    says: string;
    depends?: string;
    /** The binary to ship instead of the script (a real ELF file). */
    binary?: Buffer;
  }): { debPath: string; indexPath: string; release: string; packages: string } {
    const { debPaths, ...rest } = this.publishPackages(opts.suite, [
      {
        pkg: opts.pkg,
        version: opts.version,
        ...(opts.depends ? { depends: opts.depends } : {}),
        files: [
          { member: opts.member, says: opts.says, ...(opts.binary ? { binary: opts.binary } : {}) },
        ],
      },
    ]);
    return { debPath: debPaths[0] as string, ...rest };
  }

  /**
   * Publishes `suite` with several packages, each with files that are scripts printing what
   * they `say` (or a given binary). Replaces whatever was served before.
   */
  publishPackages(
    suite: string,
    pkgs: readonly {
      pkg: string;
      version: string;
      depends?: string;
      files: readonly { member: string; says: string; binary?: Buffer }[];
    }[],
  ): { debPaths: string[]; indexPath: string; release: string; packages: string } {
    this.files.clear();
    const stanzas = [
      `Package: unrelated\nVersion: 1.0-1\nArchitecture: amd64\nFilename: pool/main/u/unrelated/unrelated_1.0-1_amd64.deb\nSize: 1\nSHA256: ${"0".repeat(64)}\n`,
    ];
    const debPaths: string[] = [];
    for (const p of pkgs) {
      const build = mkdtempSync(join(this.root, "deb-"));
      mkdirSync(join(build, "DEBIAN"));
      writeFileSync(
        join(build, "DEBIAN", "control"),
        `Package: ${p.pkg}\nVersion: ${p.version}\nArchitecture: amd64\nMaintainer: Test <t@example.test>\nDescription: fake\n`,
      );
      for (const f of p.files) {
        const bin = join(build, f.member);
        mkdirSync(join(bin, ".."), { recursive: true });
        writeFileSync(bin, f.binary ?? `#!/bin/sh\necho "${f.says}"\n`);
        chmodSync(bin, 0o755);
      }
      const debFile = join(this.root, `${p.pkg}.deb`);
      execFileSync("dpkg-deb", ["--root-owner-group", "-Zgzip", "--build", build, debFile], {
        stdio: "ignore",
      });
      const deb = readFileSync(debFile);
      const debPath = `pool/main/${p.pkg[0]}/${p.pkg}/${p.pkg}_${p.version}_amd64.deb`;
      stanzas.push(
        `Package: ${p.pkg}\nVersion: ${p.version}\nArchitecture: amd64\nDepends: ${p.depends ?? "libc6 (>= 2.34)"}\nFilename: ${debPath}\nSize: ${deb.length}\nSHA256: ${sha256Of(deb)}\n`,
      );
      this.serve(debPath, deb);
      debPaths.push(debPath);
    }
    const packages = stanzas.join("\n");
    const xz = execFileSync("xz", ["-c"], { input: Buffer.from(packages) });
    const indexPath = "main/binary-amd64/Packages.xz";
    const release = [
      "Origin: Test",
      `Suite: ${suite}`,
      `Codename: ${suite}`,
      "Date: Fri, 30 Oct 2026 08:08:01 UTC",
      "Valid-Until: Fri, 06 Nov 2026 08:08:01 UTC",
      "SHA256:",
      ` ${sha256Of(packages)} ${Buffer.byteLength(packages)} main/binary-amd64/Packages`,
      ` ${sha256Of(xz)} ${xz.length} ${indexPath}`,
      "",
    ].join("\n");
    this.serve(`dists/${suite}/InRelease`, this.sign(release));
    this.serve(`dists/${suite}/${indexPath}`, xz);
    return { debPaths, indexPath, release, packages };
  }

  /** Serves `body` at `path` under the mirror root. */
  serve(path: string, body: Buffer | number): void {
    this.files.set(`/debian/${path}`, body);
  }

  /** What is served at `path` now. */
  served(path: string): Buffer {
    const body = this.files.get(`/debian/${path}`);
    if (!Buffer.isBuffer(body)) throw new Error(`nothing served at ${path}`);
    return body;
  }
}
