import {
  chmodSync,
  copyFileSync,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream } from "node:stream/web";
import pRetry, { AbortError } from "p-retry";
import { ToolchainError, ToolchainErrorCode } from "../host/errors.js";
import { run } from "../host/exec.js";
import { parseChecksums, sha256File } from "./checksums.js";
import { mirrored, type ReleaseAsset } from "./releases.js";
import type { Provenance } from "./state.js";

const TIMEOUT_MS = 300_000;

/**
 * Downloads `url` to `dest`, retrying transient failures (network errors,
 * 5xx). A 404 is final: the file is not published there.
 */
export async function download(url: string, dest: string): Promise<void> {
  mkdirSync(dirname(dest), { recursive: true });
  await pRetry(
    async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        const error = new Error(`GET ${url} answered ${res.status}`);
        throw res.status === 404 ? new AbortError(error) : error;
      }
      await pipeline(Readable.fromWeb(res.body as ReadableStream), createWriteStream(dest));
    },
    { retries: 3, minTimeout: 500 },
  );
}

function integrity(message: string, hint: string, cause?: unknown): ToolchainError {
  return new ToolchainError(ToolchainErrorCode.Integrity, message, { hint, cause });
}

const NOTHING_INSTALLED = "Nothing was installed.";

export interface VerifyContext {
  /** DOWNLOAD_MIRROR, when set. */
  mirror?: string;
  /** A cosign binary to check signatures with; without one, signatures are recorded as unchecked. */
  cosign?: string;
  /** A public key that replaces the upstream keyless identity (a mirror that re-signs). */
  mirrorCosignKey?: string;
  /** Scratch directory on the same machine; removed by the caller. */
  scratch: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  note(text: string): void;
}

/**
 * Fetches the project's checksums file for `release` (and checks its signature
 * when the project signs it and cosign is available), then downloads the asset
 * into the scratch directory and compares its sha256. Any missing file or
 * mismatch throws an Integrity error that names the asset and both hashes;
 * nothing is moved into place here, so a failure leaves nothing installed.
 */
export async function downloadVerified(
  release: ReleaseAsset,
  ctx: VerifyContext,
): Promise<{ file: string; provenance: Provenance }> {
  const checksumsUrl = mirrored(release.checksumsUrl, ctx.mirror);
  ctx.note(`checksums ${new URL(release.checksumsUrl).pathname.split("/").pop()}`);
  const checksumsFile = join(ctx.scratch, "checksums.txt");
  try {
    await download(checksumsUrl, checksumsFile);
  } catch (err) {
    throw integrity(
      `${release.asset}: its checksums file could not be fetched from ${checksumsUrl} (${(err as Error).message}).`,
      `${NOTHING_INSTALLED} Setup never installs a download it cannot check: make ${checksumsUrl} reachable (or mirror it next to the asset under DOWNLOAD_MIRROR).`,
      err,
    );
  }
  const signature = release.signature
    ? await verifySignature(release, checksumsFile, ctx)
    : undefined;
  const expected = parseChecksums(readFileSync(checksumsFile, "utf8")).get(release.asset);
  if (!expected) {
    throw integrity(
      `${release.asset}: no checksum for it in ${checksumsUrl}.`,
      `${NOTHING_INSTALLED} The checksums file does not list this asset, so it cannot be verified; check the pinned version in mcp-pipeline's src/toolchain/versions.ts and the mirror's copy of the file.`,
    );
  }
  const url = mirrored(release.url, ctx.mirror);
  const file = join(ctx.scratch, release.asset);
  ctx.note(`download ${release.asset}`);
  try {
    await download(url, file);
  } catch (err) {
    throw new ToolchainError(
      ToolchainErrorCode.CommandFailed,
      `${release.asset}: download from ${url} failed (${(err as Error).message}).`,
      {
        hint: "Check the network (or DOWNLOAD_MIRROR) and run `mcp-pipeline setup` again.",
        cause: err,
      },
    );
  }
  const actual = await sha256File(file);
  if (actual !== expected) {
    rmSync(file, { force: true });
    throw integrity(
      `${release.asset}: sha256 mismatch — expected ${expected} (from ${checksumsUrl}), got ${actual} (from ${url}).`,
      `${NOTHING_INSTALLED} The download is corrupt or was tampered with; retry, and if it persists, do not use this source.`,
    );
  }
  return {
    file,
    provenance: {
      tool: release.tool,
      source: "release",
      asset: release.asset,
      url,
      sha256: actual,
      checksumSource: checksumsUrl,
      signature,
      at: new Date().toISOString(),
    },
  };
}

async function verifySignature(
  release: ReleaseAsset,
  checksumsFile: string,
  ctx: VerifyContext,
): Promise<NonNullable<Provenance["signature"]>> {
  const sig = release.signature;
  if (!sig) return { verified: false, reason: "not signed by its project" };
  if (!ctx.cosign) return { verified: false, reason: "cosign is not installed" };
  const bundleUrl = mirrored(sig.bundleUrl, ctx.mirror);
  const bundle = join(ctx.scratch, "checksums.sigstore.json");
  try {
    await download(bundleUrl, bundle);
  } catch (err) {
    throw integrity(
      `${release.asset}: the signature of its checksums file could not be fetched from ${bundleUrl} (${(err as Error).message}).`,
      `${NOTHING_INSTALLED} The project signs its checksums; without the signature they cannot be trusted. Make ${bundleUrl} reachable.`,
      err,
    );
  }
  const key = ctx.mirror ? ctx.mirrorCosignKey : undefined;
  const by = key ? `key ${key}` : `${sig.identity} (issuer ${sig.issuer})`;
  const args = key
    ? ["verify-blob", "--key", key, "--bundle", bundle, "--insecure-ignore-tlog=true"]
    : [
        "verify-blob",
        "--new-bundle-format",
        "--bundle",
        bundle,
        "--certificate-identity",
        sig.identity,
        "--certificate-oidc-issuer",
        sig.issuer,
      ];
  ctx.note(`cosign verify-blob ${new URL(sig.bundleUrl).pathname.split("/").pop()}`);
  try {
    await run(ctx.cosign, [...args, checksumsFile], {
      env: ctx.env,
      logFile: ctx.logFile,
      timeoutMs: 120_000,
    });
  } catch (err) {
    throw integrity(
      `${release.asset}: the signature of its checksums file does not verify as signed by ${by}.`,
      `${NOTHING_INSTALLED} cosign's output is in ${ctx.logFile}. Keyless verification needs Sigstore's trust root (tuf-repo-cdn.sigstore.dev); a mirror that re-signs what it serves names its public key in DOWNLOAD_MIRROR_COSIGN_KEY.`,
      err,
    );
  }
  return { verified: true, by };
}

/** A scratch directory for one download, beside the cache's downloads. */
export function scratchDir(downloads: string): string {
  mkdirSync(downloads, { recursive: true });
  return mkdtempSync(join(downloads, "verify-"));
}

/**
 * Puts a verified binary at `dest` atomically: copied beside it under a
 * temporary name, made executable, then renamed over it.
 */
export function installBinary(src: string, dest: string): void {
  mkdirSync(dirname(dest), { recursive: true });
  const partial = `${dest}.partial-${process.pid}`;
  try {
    copyFileSync(src, partial);
    chmodSync(partial, 0o755);
    renameSync(partial, dest);
  } finally {
    rmSync(partial, { force: true });
  }
}

/** Extracts one member of a verified `.tar.gz` into `dir` and returns its path. */
export async function extractMember(
  archive: string,
  member: string,
  dir: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  await run("tar", ["-xzf", archive, "-C", dir, member], { env });
  return join(dir, member);
}
