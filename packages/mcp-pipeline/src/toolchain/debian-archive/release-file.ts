import { readFileSync } from "node:fs";
import { execa } from "execa";
import { ToolchainError, ToolchainErrorCode } from "../../host/errors.js";

/** One file an archive's Release lists under `SHA256:`. */
export interface IndexEntry {
  sha256: string;
  size: number;
}

/** The fields of a suite's (In)Release file that setup uses. */
export interface ReleaseFile {
  suite: string | undefined;
  codename: string | undefined;
  date: string | undefined;
  validUntil: string | undefined;
  /** Path under `dists/<suite>/` → its sha256 and size. */
  sha256: Map<string, IndexEntry>;
}

/**
 * Parses the text of a Release file (the part of InRelease that the signature covers: use
 * what `gpgv --output` wrote, never the raw file). Only the `SHA256` list is trusted for
 * hashes; MD5Sum and SHA1 are ignored.
 */
export function parseRelease(text: string): ReleaseFile {
  const fields = new Map<string, string>();
  const sha256 = new Map<string, IndexEntry>();
  let current: string | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith(" ") || line.startsWith("\t")) {
      if (current !== "SHA256") continue;
      const [hash, size, path] = line.trim().split(/\s+/);
      if (hash && /^[0-9a-f]{64}$/i.test(hash) && size && /^\d+$/.test(size) && path)
        sha256.set(path, { sha256: hash.toLowerCase(), size: Number(size) });
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) {
      current = undefined;
      continue;
    }
    current = line.slice(0, colon);
    fields.set(current, line.slice(colon + 1).trim());
  }
  return {
    suite: fields.get("Suite"),
    codename: fields.get("Codename"),
    date: fields.get("Date"),
    validUntil: fields.get("Valid-Until"),
    sha256,
  };
}

/** A key whose good signature gpgv reported. */
export interface Signer {
  /** The fingerprint of the (sub)key that signed. */
  fingerprint: string;
  /** The primary key's fingerprint: what the keyring lists. */
  primary: string;
  /** The key's user id, e.g. `Debian Archive Automatic Signing Key (13/trixie) <ftpmaster@debian.org>`. */
  name: string;
}

/**
 * Reads gpgv's `--status-fd` lines. Good when at least one signature is valid and none is bad:
 * apt's rule too, since a suite is signed by several keys and a machine's keyring may lack one
 * of them (gpgv then exits 2 with NO_PUBKEY for it, and that signature is simply not counted).
 */
export function parseGpgvStatus(status: string): { signers: Signer[]; bad: string[] } {
  const signers: Signer[] = [];
  const bad: string[] = [];
  const names = new Map<string, string>();
  for (const line of status.split("\n")) {
    const [tag, kind, ...rest] = line.trim().split(" ");
    if (tag !== "[GNUPG:]" || !kind) continue;
    if (kind === "GOODSIG") names.set(rest[0] ?? "", rest.slice(1).join(" "));
    if (kind === "VALIDSIG") {
      const fingerprint = rest[0] ?? "";
      const primary = rest[9] ?? fingerprint;
      const name = [...names.entries()].find(([id]) => fingerprint.endsWith(id))?.[1] ?? "";
      signers.push({ fingerprint, primary, name });
    }
    // A signature that does not match its text, or by an expired or revoked key.
    if (["BADSIG", "EXPKEYSIG", "REVKEYSIG", "EXPSIG"].includes(kind))
      bad.push(`${kind} ${rest.join(" ")}`.trim());
  }
  return { signers, bad };
}

/** One clearsigned message and nothing around it: what Debian publishes as InRelease. */
function assertSingleClearsigned(text: string, url: string): void {
  const begins = text.split("-----BEGIN PGP SIGNED MESSAGE-----").length - 1;
  const signatures = text.split("-----BEGIN PGP SIGNATURE-----").length - 1;
  if (
    !text.startsWith("-----BEGIN PGP SIGNED MESSAGE-----\n") ||
    !text.trimEnd().endsWith("-----END PGP SIGNATURE-----") ||
    begins !== 1 ||
    signatures !== 1
  ) {
    throw new ToolchainError(
      ToolchainErrorCode.Integrity,
      `${url} is not one clearsigned message (text outside the signature, or several messages).`,
      { hint: "Nothing was installed. The mirror serves something Debian did not publish." },
    );
  }
}

/**
 * Verifies a clearsigned InRelease with `gpgv` against `keyring` and writes the signed text
 * (and only that) to `out`. Throws an Integrity error naming the file and what gpgv found
 * when no key of the keyring made a good signature, or any signature is bad.
 */
export async function verifyInRelease(
  file: string,
  url: string,
  keyring: string,
  out: string,
  env: NodeJS.ProcessEnv,
): Promise<Signer[]> {
  assertSingleClearsigned(readFileSync(file, "utf8"), url);
  // execa rather than run(): gpgv exits 2 when one of several signatures has no key here, which
  // is fine (see parseGpgvStatus); its status lines, not its exit code, decide.
  const result = await execa(
    "gpgv",
    ["--status-fd", "1", "--keyring", keyring, "--output", out, file],
    { env, reject: false, all: true, timeout: 60_000 },
  );
  if (result.failed && result.exitCode === undefined) {
    throw new ToolchainError(
      ToolchainErrorCode.Unsupported,
      `gpgv could not run (${result.shortMessage}).`,
      {
        hint: "Install gpgv (Debian's package `gpgv`), or build from the Go module proxy instead.",
      },
    );
  }
  const { signers, bad } = parseGpgvStatus(String(result.stdout ?? ""));
  if (signers.length === 0 || bad.length > 0) {
    const why = bad.length
      ? bad.join("; ")
      : String(result.stderr ?? "")
          .trim()
          .split("\n")
          .slice(-2)
          .join(" ") || "no signature by a key in the keyring";
    throw new ToolchainError(
      ToolchainErrorCode.Integrity,
      `${url}: the signature does not verify against ${keyring} (${why}).`,
      {
        hint: "Nothing was installed. The mirror's index is corrupt or not Debian's; check the mirror, or that the keyring (package debian-archive-keyring) is current.",
      },
    );
  }
  return signers;
}
