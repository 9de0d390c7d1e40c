import { existsSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { execa } from "execa";
import { ToolchainError, ToolchainErrorCode } from "../../host/errors.js";
import { run, which } from "../../host/exec.js";
import { sha256File, sha256Of } from "../checksums.js";
import { download, installBinary, scratchDir } from "../download.js";
import type { Provenance } from "../state.js";
import { glibcNeeds, highest } from "./elf-glibc.js";
import { findPinned, isSafePoolPath, type PackageEntry, parsePackages } from "./packages-index.js";
import {
  type IndexEntry,
  parseRelease,
  type ReleaseFile,
  type Signer,
  verifyInRelease,
} from "./release-file.js";
import { compareDotted, libcFloor } from "./version.js";

/** Debian's archive keyring as the `debian-archive-keyring` package installs it. */
export const DEBIAN_ARCHIVE_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";

/** One binary of a package: its path inside the .deb, its name once installed, and how it says its version. */
export interface ArchiveBinary {
  /** The binary's path inside the .deb, e.g. `usr/sbin/dockerd`. */
  member: string;
  /** Its name in the destination directory (and in the provenance records). */
  name: string;
  /** Arguments that make the binary print its version (the package's upstream version must be in the output). */
  versionArgs: readonly string[];
}

/** A Debian package at a pinned upstream version, and the binaries to take from it. */
export interface ArchivePackage {
  package: string;
  /** The pinned upstream version the package must be (see version.ts). */
  version: string;
  binaries: readonly ArchiveBinary[];
}

/** A tool Debian packages: which package, which file in it, and where to look. */
export interface ArchiveTool {
  /** Its name in the toolchain's bin/. */
  tool: string;
  package: string;
  /** The binary's path inside the .deb, e.g. `usr/libexec/docker/cli-plugins/docker-compose`. */
  member: string;
  /** The pinned upstream version the package must be. */
  version: string;
  /** Suites to look in, in order (the first with the pinned version wins). */
  suites: readonly string[];
  /** Arguments that make the binary print its version. */
  versionArgs: readonly string[];
}

/** Where to look and what the machine is: everything but the destination. */
export interface ArchiveSource {
  /** The mirror's root URL, e.g. `http://deb.debian.org/debian`. */
  mirror: string;
  keyring: string;
  /** Debian's name for the machine's architecture (`amd64`, `arm64`). */
  arch: string;
  /** The glibc of the machine the binary will run on (`2.36`); undefined means no check is possible. */
  glibc: string | undefined;
  /** Where verified indexes are kept between runs (re-verified on every use) and scratch dirs go. */
  downloads: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  note(text: string): void;
}

export interface ArchiveOptions extends ArchiveSource {
  /** Where the binary is installed. */
  dest: string;
}

/** Installed with its provenance, or not available (and why, for the user). */
export type ArchiveOutcome =
  | { installed: true; provenance: Provenance }
  | { installed: false; reason: string };

/** Every binary installed, one provenance record each, or none installed (and why). */
export type ArchivePackagesOutcome =
  | { installed: true; provenance: Provenance[] }
  | { installed: false; reason: string };

const NOTHING_INSTALLED = "Nothing was installed from Debian's archive.";

function integrity(message: string, hint: string, cause?: unknown): ToolchainError {
  return new ToolchainError(ToolchainErrorCode.Integrity, message, {
    hint: `${NOTHING_INSTALLED} ${hint}`,
    cause,
  });
}

/** The Debian architecture name of this machine, or undefined for one Debian does not build. */
export function debianArch(arch: string = process.arch): string | undefined {
  return ({ x64: "amd64", arm64: "arm64" } as Record<string, string>)[arch];
}

/** A suite's signed Release and the verified Packages index of `main` for one architecture. */
interface VerifiedIndex {
  suite: string;
  release: ReleaseFile;
  signers: Signer[];
  inReleaseUrl: string;
  /** `main/binary-amd64/Packages.xz` (or .gz): the file the entries came from. */
  indexPath: string;
  entries: Map<string, PackageEntry[]>;
}

/** Compares a download with what a signed list says about it. */
async function assertMatches(file: string, expected: IndexEntry, what: string, listedIn: string) {
  const size = lstatSync(file).size;
  const sha = await sha256File(file);
  if (sha !== expected.sha256 || size !== expected.size) {
    throw integrity(
      `${what}: sha256 mismatch — ${listedIn} lists ${expected.sha256} (${expected.size} bytes), the mirror served ${sha} (${size} bytes).`,
      "The mirror's copy is corrupt, stale or tampered with; retry later or use another mirror (DEBIAN_MIRROR).",
    );
  }
}

/**
 * Fetches `dists/<suite>/InRelease`, verifies its signature with gpgv against the keyring, and
 * fetches the `main` Packages index of the architecture, checked against the sha256 and size
 * the signed Release lists (and, decompressed, against the uncompressed entry when listed).
 * Returns why not when the mirror does not serve the suite (or cannot be reached).
 */
async function verifiedIndex(
  suite: string,
  names: ReadonlySet<string>,
  o: ArchiveSource,
  scratch: string,
): Promise<VerifiedIndex | { unavailable: string }> {
  const inReleaseUrl = `${o.mirror}/dists/${suite}/InRelease`;
  const inRelease = join(scratch, `${suite}.InRelease`);
  o.note(`fetch ${suite}/InRelease`);
  try {
    await download(inReleaseUrl, inRelease);
  } catch (err) {
    return { unavailable: `${inReleaseUrl}: ${(err as Error).message}` };
  }
  const releaseText = join(scratch, `${suite}.Release`);
  const signers = await verifyInRelease(inRelease, inReleaseUrl, o.keyring, releaseText, o.env);
  const release = parseRelease(readFileSync(releaseText, "utf8"));
  const base = `main/binary-${o.arch}/Packages`;
  const useXz = which("xz", o.env) !== undefined;
  const indexPath = [useXz ? `${base}.xz` : undefined, `${base}.gz`].find(
    (p) => p !== undefined && release.sha256.has(p),
  );
  const listed = indexPath ? release.sha256.get(indexPath) : undefined;
  if (!indexPath || !listed) {
    throw integrity(
      `${inReleaseUrl} lists no SHA256 for ${base}.xz or ${base}.gz.`,
      "Without a signed hash the package index cannot be trusted.",
    );
  }
  // Kept by its hash: a later run re-checks it against a freshly verified InRelease.
  const cacheDir = join(o.downloads, "debian-archive");
  mkdirSync(cacheDir, { recursive: true });
  const cached = join(cacheDir, `${listed.sha256}${indexPath.slice(indexPath.lastIndexOf("."))}`);
  const what = `${suite}'s ${indexPath}`;
  if (!existsSync(cached) || (await sha256File(cached)) !== listed.sha256) {
    const fetched = join(scratch, basename(indexPath));
    o.note(`fetch ${suite}/${indexPath} (${Math.round(listed.size / 1e6)} MB)`);
    await download(`${o.mirror}/dists/${suite}/${indexPath}`, fetched);
    await assertMatches(fetched, listed, what, inReleaseUrl);
    renameSync(fetched, cached);
  }
  await assertMatches(cached, listed, what, inReleaseUrl);
  const bytes = await decompress(cached, join(scratch, `${suite}.Packages`), o.env);
  const plain = release.sha256.get(base);
  if (plain && sha256Of(bytes) !== plain.sha256) {
    throw integrity(
      `${what}: decompressed, it does not match the sha256 ${inReleaseUrl} lists for ${base}.`,
      "The compressed index matched, so the decompressor or the disk is at fault; retry.",
    );
  }
  return {
    suite,
    release,
    signers,
    inReleaseUrl,
    indexPath,
    entries: parsePackages(bytes.toString("utf8"), names),
  };
}

/** Decompresses to a file (the sid index is 65 MB, past what a child's stdout is buffered to). */
async function decompress(file: string, out: string, env: NodeJS.ProcessEnv): Promise<Buffer> {
  const tool = file.endsWith(".xz") ? "xz" : "gzip";
  await execa(tool, ["-dc", file], { env, stdout: { file: out } });
  return readFileSync(out);
}

/** Why a package version cannot run here, or undefined when it can (as far as Depends says). */
function unsuitable(entry: PackageEntry, o: ArchiveSource): string | undefined {
  const floor = libcFloor(entry.depends);
  if (floor && o.glibc && compareDotted(floor, o.glibc) > 0)
    return `${entry.package} ${entry.version} needs glibc ≥ ${floor}, this machine has ${o.glibc}`;
  if (floor && !o.glibc)
    return `${entry.package} needs glibc ≥ ${floor}, and this machine's glibc is unknown`;
  return undefined;
}

/** Verified indexes by suite, each fetched and checked once per install. */
type IndexCache = Map<string, Promise<VerifiedIndex | { unavailable: string }>>;

/** Finds the pinned version in the first suite that has it, noting what the others have. */
async function locate(
  p: ArchivePackage,
  suites: readonly string[],
  indexes: IndexCache,
  names: ReadonlySet<string>,
  o: ArchiveSource,
  scratch: string,
): Promise<{ index: VerifiedIndex; entry: PackageEntry } | { reason: string }> {
  const seen: string[] = [];
  for (const suite of suites) {
    let pending = indexes.get(suite);
    if (!pending) {
      pending = verifiedIndex(suite, names, o, scratch);
      indexes.set(suite, pending);
    }
    const index = await pending;
    if ("unavailable" in index) {
      seen.push(`${suite}: ${index.unavailable}`);
      continue;
    }
    const entry = findPinned(index.entries, p.package, p.version);
    if (!entry) {
      const there = index.entries.get(p.package)?.map((e) => e.version) ?? [];
      seen.push(`${suite}: ${there.length ? there.join(", ") : "no such package"}`);
      continue;
    }
    const why = unsuitable(entry, o);
    if (why) {
      seen.push(`${suite}: ${why}`);
      continue;
    }
    return { index, entry };
  }
  return {
    reason: `Debian's archive has no usable ${p.package} ${p.version} (${seen.join("; ")})`,
  };
}

/** Downloads the entry's .deb into `scratch` and checks it against the verified index. */
async function fetchDeb(
  index: VerifiedIndex,
  entry: PackageEntry,
  o: ArchiveSource,
  scratch: string,
): Promise<{ deb: string; url: string }> {
  if (!isSafePoolPath(entry.filename)) {
    throw integrity(
      `${index.suite}'s index gives ${entry.package} the file name ${JSON.stringify(entry.filename)}, which is not a path in the pool.`,
      "The index is signed, but such a path is never used.",
    );
  }
  const url = `${o.mirror}/${entry.filename}`;
  const deb = join(scratch, basename(entry.filename));
  o.note(`fetch ${basename(deb)} (${Math.round(entry.size / 1e6)} MB)`);
  await download(url, deb);
  await assertMatches(deb, entry, basename(deb), `${index.suite}'s ${index.indexPath}`);
  return { deb, url };
}

/** A binary unpacked from a verified .deb that runs here, and the glibc it needs. */
interface RunnableBinary {
  binary: ArchiveBinary;
  file: string;
  glibcNeeded: string | undefined;
}

/**
 * Unpacks the verified .deb into its own directory under `scratch` (`dpkg-deb -x`: no
 * maintainer scripts, no dpkg database) and checks that each wanted binary can run here: its
 * glibc needs, then its version output. Returns the binaries, or why one cannot be used.
 */
async function extractRunnable(
  p: ArchivePackage,
  deb: string,
  o: ArchiveSource,
  scratch: string,
): Promise<RunnableBinary[] | { reason: string }> {
  const root = join(scratch, `root-${p.package}`);
  await run("dpkg-deb", ["-x", deb, root], { env: o.env, logFile: o.logFile });
  const found: RunnableBinary[] = [];
  for (const binary of p.binaries) {
    const file = join(root, binary.member);
    const from = `${binary.name} from ${basename(deb)}`;
    if (!existsSync(file) || !lstatSync(file).isFile())
      return {
        reason: `${basename(deb)} has no file at /${binary.member} (Debian's packaging changed)`,
      };
    const glibcNeeded = highest(glibcNeeds(file));
    if (glibcNeeded && (!o.glibc || compareDotted(glibcNeeded, o.glibc) > 0))
      return {
        reason: `${from} needs glibc ${glibcNeeded}, this machine has ${o.glibc ?? "an unknown libc"}`,
      };
    let said: string;
    try {
      said = await run(file, binary.versionArgs, { env: o.env, timeoutMs: 20_000 });
    } catch (err) {
      return { reason: `${from} does not run here (${(err as Error).message.split("\n")[0]})` };
    }
    if (!said.includes(p.version))
      return {
        reason: `${from} reports ${JSON.stringify(said.split("\n")[0])}, not ${p.version}`,
      };
    found.push({ binary, file, glibcNeeded });
  }
  return found;
}

/**
 * Installs binaries of several Debian packages, each at its pinned upstream version, into
 * `o.destDir` — all of them or none. For each package, the first suite that has exactly the pin
 * (and declares no glibc newer than the machine's) is used. The chain, per package: InRelease
 * signed by a key in the Debian archive keyring (gpgv) → the Packages index's sha256 and size as
 * InRelease lists them → the .deb's sha256 and size as the index lists them → `dpkg-deb -x` into
 * a scratch directory (dpkg's database is never touched) → each binary's glibc needs against the
 * machine's → its version output. Only when every binary of every package passed are they copied
 * into `o.destDir`. A failed check throws an Integrity error naming what failed; a package that
 * is simply not there (or a binary that cannot run here) returns `installed: false` with why.
 */
export async function installPackagesFromDebianArchive(
  packages: readonly ArchivePackage[],
  suites: readonly string[],
  o: ArchiveSource & { destDir: string },
): Promise<ArchivePackagesOutcome> {
  for (const cmd of ["gpgv", "dpkg-deb"]) {
    if (!which(cmd, o.env)) return { installed: false, reason: `${cmd} is not installed` };
  }
  if (!existsSync(o.keyring))
    return { installed: false, reason: `no Debian archive keyring at ${o.keyring}` };
  const scratch = scratchDir(o.downloads);
  try {
    const indexes: IndexCache = new Map();
    const names = new Set(packages.map((p) => p.package));
    // Every package is located first: a missing one costs no download of the others.
    const located: { p: ArchivePackage; index: VerifiedIndex; entry: PackageEntry }[] = [];
    for (const p of packages) {
      const found = await locate(p, suites, indexes, names, o, scratch);
      if ("reason" in found) return { installed: false, reason: found.reason };
      located.push({ p, ...found });
    }
    const ready: {
      index: VerifiedIndex;
      entry: PackageEntry;
      url: string;
      deb: string;
      binaries: RunnableBinary[];
    }[] = [];
    for (const { p, index, entry } of located) {
      const { deb, url } = await fetchDeb(index, entry, o, scratch);
      const binaries = await extractRunnable(p, deb, o, scratch);
      if ("reason" in binaries) return { installed: false, reason: binaries.reason };
      ready.push({ index, entry, url, deb, binaries });
    }
    const provenance: Provenance[] = [];
    const at = new Date().toISOString();
    for (const { index, entry, url, deb, binaries } of ready) {
      for (const b of binaries) {
        provenance.push({
          tool: b.binary.name,
          source: "debian-archive",
          asset: basename(deb),
          url,
          sha256: entry.sha256,
          checksumSource: `${index.inReleaseUrl} → ${index.indexPath}`,
          signature: {
            verified: true,
            by: index.signers.map((s) => `${s.name || "key"} [${s.primary}]`).join("; "),
          },
          archive: {
            suite: index.suite,
            codename: index.release.codename,
            package: entry.package,
            version: entry.version,
            indexDate: index.release.date,
            validUntil: index.release.validUntil,
            binarySha256: await sha256File(b.file),
            glibcNeeded: b.glibcNeeded,
          },
          at,
        });
      }
    }
    for (const { binaries } of ready)
      for (const b of binaries) installBinary(b.file, join(o.destDir, b.binary.name));
    return { installed: true, provenance };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Installs one tool's binary from Debian's archive (see installPackagesFromDebianArchive) at
 * `o.dest`, when a suite has exactly its pinned version and the binary runs here.
 */
export async function installFromDebianArchive(
  t: ArchiveTool,
  o: ArchiveOptions,
): Promise<ArchiveOutcome> {
  const outcome = await installPackagesFromDebianArchive(
    [
      {
        package: t.package,
        version: t.version,
        binaries: [{ member: t.member, name: basename(o.dest), versionArgs: t.versionArgs }],
      },
    ],
    t.suites,
    { ...o, destDir: dirname(o.dest) },
  );
  if (!outcome.installed) return outcome;
  const [record] = outcome.provenance;
  if (!record) throw new Error("installPackagesFromDebianArchive installed nothing");
  return { installed: true, provenance: { ...record, tool: t.tool } };
}
