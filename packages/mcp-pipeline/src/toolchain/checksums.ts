import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";

const LINE = /^([0-9a-fA-F]{64})\s+\*?(?:\.\/)?(\S.*)$/;

/**
 * Parses a checksums file in the `sha256sum` format the projects publish:
 * `<hex>  <name>` (GoReleaser's `*_checksums.txt`, Dagger's `checksums.txt`)
 * or `<hex> *<name>` (binary mode: Compose's and Buildx's `checksums.txt`,
 * Compose's `<asset>.sha256`). Returns file name → lowercase hex digest.
 */
export function parseChecksums(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const match = LINE.exec(raw.trim());
    if (!match?.[1] || !match[2]) continue;
    entries.set(match[2].trim(), match[1].toLowerCase());
  }
  return entries;
}

/** The sha256 of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

/** The sha256 of a string or buffer. */
export function sha256Of(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
