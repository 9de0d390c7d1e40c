import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Debian's own redirector: used when apt's sources name no Debian mirror. */
export const DEFAULT_DEBIAN_MIRROR = "http://deb.debian.org/debian";

interface SourceEntry {
  types: string[];
  uris: string[];
  suites: string[];
  signedBy: string | undefined;
}

/** Entries of a deb822 `.sources` file. */
function parseDeb822(text: string): SourceEntry[] {
  return text
    .split(/\n\s*\n/)
    .map((stanza) => {
      const f = new Map<string, string>();
      for (const line of stanza.split("\n")) {
        const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
        if (m?.[1] && m[2] !== undefined) f.set(m[1].toLowerCase(), m[2].trim());
      }
      const words = (k: string) => (f.get(k) ?? "").split(/\s+/).filter(Boolean);
      return {
        types: words("types"),
        uris: words("uris"),
        suites: words("suites"),
        signedBy: f.get("signed-by"),
        enabled: f.get("enabled")?.toLowerCase() !== "no",
      };
    })
    .filter((e) => e.enabled && e.uris.length > 0);
}

/** Entries of a one-line-style `.list` file: `deb [opts] uri suite components…`. */
function parseOneLine(text: string): SourceEntry[] {
  const entries: SourceEntry[] = [];
  for (const raw of text.split("\n")) {
    const m = /^\s*(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)/.exec(raw);
    if (!m?.[1] || !m[3] || !m[4]) continue;
    const signedBy = /signed-by=(\S+)/.exec(m[2] ?? "")?.[1];
    entries.push({ types: [m[1]], uris: [m[3]], suites: [m[4]], signedBy });
  }
  return entries;
}

/**
 * The Debian mirror apt on this machine uses: the first `deb` source signed by Debian's archive
 * keyring (or not pinned to another key) that serves a release suite (`bookworm`, not
 * `bookworm-security`). Third-party repositories (their own Signed-By) are skipped.
 */
export function aptDebianMirror(etcApt = "/etc/apt"): string | undefined {
  const files: { name: string; text: string }[] = [];
  const main = join(etcApt, "sources.list");
  if (existsSync(main)) files.push({ name: main, text: readFileSync(main, "utf8") });
  const dir = join(etcApt, "sources.list.d");
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) {
      if (!/\.(list|sources)$/.test(name)) continue;
      files.push({ name, text: readFileSync(join(dir, name), "utf8") });
    }
  }
  for (const { name, text } of files) {
    const entries = name.endsWith(".sources") ? parseDeb822(text) : parseOneLine(text);
    for (const e of entries) {
      if (!e.types.includes("deb")) continue;
      if (e.signedBy && !/debian-archive-keyring/.test(e.signedBy)) continue;
      if (!e.suites.some((s) => /^[a-z]+$/.test(s))) continue;
      const uri = e.uris.find((u) => /^https?:\/\//.test(u));
      if (uri) return uri.replace(/\/+$/, "");
    }
  }
  return undefined;
}
