import { matchesPin } from "./version.js";

/** The fields of one `Packages` stanza that setup uses. */
export interface PackageEntry {
  package: string;
  version: string;
  architecture: string | undefined;
  /** Path of the .deb under the mirror's root (`pool/main/…`). */
  filename: string;
  sha256: string;
  size: number;
  depends: string | undefined;
}

const FIELDS = {
  Package: "package",
  Version: "version",
  Architecture: "architecture",
  Filename: "filename",
  SHA256: "sha256",
  Size: "size",
  Depends: "depends",
} as const;

/**
 * Parses a `Packages` index (deb822 stanzas separated by blank lines) into package name → its
 * entries. Stanzas without a Filename, a 64-hex SHA256 or a Size are left out: they could not be
 * verified. `only` limits parsing to those package names (the sid index is 65 MB of text).
 */
export function parsePackages(
  text: string,
  only?: ReadonlySet<string>,
): Map<string, PackageEntry[]> {
  const byName = new Map<string, PackageEntry[]>();
  // Debian writes exactly one blank line between stanzas, and `Package` first in each.
  for (const stanza of text.replace(/^\n+/, "").split("\n\n")) {
    const first = /^Package:\s*(\S+)/.exec(stanza);
    if (!first?.[1] || (only && !only.has(first[1]))) continue;
    const raw: Partial<Record<(typeof FIELDS)[keyof typeof FIELDS], string>> = {};
    for (const line of stanza.split("\n")) {
      const colon = line.indexOf(":");
      if (colon <= 0 || line.startsWith(" ")) continue;
      const key = FIELDS[line.slice(0, colon) as keyof typeof FIELDS];
      if (key) raw[key] = line.slice(colon + 1).trim();
    }
    if (
      !raw.package ||
      !raw.version ||
      !raw.filename ||
      !/^[0-9a-f]{64}$/i.test(raw.sha256 ?? "") ||
      !/^\d+$/.test(raw.size ?? "")
    )
      continue;
    const entry: PackageEntry = {
      package: raw.package,
      version: raw.version,
      architecture: raw.architecture,
      filename: raw.filename,
      sha256: (raw.sha256 as string).toLowerCase(),
      size: Number(raw.size),
      depends: raw.depends,
    };
    byName.set(entry.package, [...(byName.get(entry.package) ?? []), entry]);
  }
  return byName;
}

/** The entry of `name` whose upstream version is exactly `pin` (the first, if several). */
export function findPinned(
  index: Map<string, PackageEntry[]>,
  name: string,
  pin: string,
): PackageEntry | undefined {
  return index.get(name)?.find((e) => matchesPin(e.version, pin));
}

/**
 * Refuses a Filename that could leave the pool when joined to the mirror URL (`..`, absolute,
 * a scheme): the index is signed, but the path is still used to build a URL and a file name.
 */
export function isSafePoolPath(filename: string): boolean {
  return /^pool\/[A-Za-z0-9._+~/-]+\.deb$/.test(filename) && !filename.split("/").includes("..");
}
