import { readFileSync } from "node:fs";
import { compareDotted } from "./version.js";

const SHT_GNU_VERNEED = 0x6ffffffe;

/**
 * The glibc symbol versions (`2.34`, …) a 64-bit little-endian ELF file needs, read from its
 * `.gnu.version_r` section (what `objdump -T` shows as `GLIBC_x.y`), without binutils. A file
 * that is not such an ELF (a script), or a static binary, needs none. A malformed ELF throws.
 */
export function glibcNeeds(file: string): string[] {
  const b = readFileSync(file);
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46) return [];
  if (b[4] !== 2 || b[5] !== 1) throw new Error(`${file}: not a 64-bit little-endian ELF file`);
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a);
  const shnum = b.readUInt16LE(0x3c);
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    return {
      type: b.readUInt32LE(at + 4),
      offset: Number(b.readBigUInt64LE(at + 24)),
      link: b.readUInt32LE(at + 40),
      info: b.readUInt32LE(at + 44),
    };
  };
  const cString = (at: number) => b.toString("latin1", at, b.indexOf(0, at));
  const needs = new Set<string>();
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (s.type !== SHT_GNU_VERNEED) continue;
    const strtab = section(s.link).offset;
    // Verneed entries (sh_info of them), each with vn_cnt Vernaux entries naming a version.
    let need = s.offset;
    for (let n = 0; n < s.info; n++) {
      const count = b.readUInt16LE(need + 2);
      let aux = need + b.readUInt32LE(need + 8);
      for (let a = 0; a < count; a++) {
        const name = cString(strtab + b.readUInt32LE(aux + 8));
        const version = /^GLIBC_(\d+(?:\.\d+)*)$/.exec(name)?.[1];
        if (version) needs.add(version);
        aux += b.readUInt32LE(aux + 12);
      }
      need += b.readUInt32LE(need + 12);
    }
  }
  return [...needs].sort(compareDotted);
}

/** The highest of the versions, or undefined for none. */
export function highest(versions: readonly string[]): string | undefined {
  return [...versions].sort(compareDotted).at(-1);
}

/** The glibc this process runs on (`2.36` on Debian 12), or undefined (musl, not Linux). */
export function hostGlibc(): string | undefined {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } })
    ?.header;
  return header?.glibcVersionRuntime;
}
