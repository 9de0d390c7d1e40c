import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "./exec.js";
import { ARCHES, type Arch } from "./platforms.js";

/** Where the kernel's binfmt_misc interface lives when mounted. */
export const BINFMT_DIR = "/proc/sys/fs/binfmt_misc";

/** The handler name Debian's `qemu-user-static` and `tonistiigi/binfmt` both register. */
export function handlerName(arch: Arch): string {
  return `qemu-${ARCHES[arch].qemu}`;
}

/** Where Debian's `qemu-user-static` puts its registration lines (one file per handler). */
export const BINFMT_CONF_DIR = "/usr/lib/binfmt.d";

const littleEndianWords = (words: number[]) => {
  const code = Buffer.alloc(words.length * 4);
  for (const [i, w] of words.entries()) code.writeUInt32LE(w, i * 4);
  return code;
};

// Machine code of a program that writes the 6-byte message placed right after it
// ("<arch>\n") to stdout and exits 0, by direct syscalls: no libc, no loader, so it runs
// wherever the kernel can execute its architecture.
const PROBE_CODE: Record<Arch, Buffer> = {
  // mov eax,1; mov edi,1; lea rsi,[rip+16]; mov edx,6; syscall; mov eax,60; xor edi,edi; syscall
  amd64: Buffer.from([
    0xb8, 1, 0, 0, 0, 0xbf, 1, 0, 0, 0, 0x48, 0x8d, 0x35, 16, 0, 0, 0, 0xba, 6, 0, 0, 0, 0x0f, 0x05,
    0xb8, 60, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05,
  ]),
  // mov x0,#1; adr x1,.+28; mov x2,#6; mov x8,#64; svc 0; mov x0,#0; mov x8,#93; svc 0
  arm64: littleEndianWords([
    0xd2800020, 0x100000e1, 0xd28000c2, 0xd2800808, 0xd4000001, 0xd2800000, 0xd2800ba8, 0xd4000001,
  ]),
};

/**
 * A minimal static ELF executable for `arch` that prints the architecture's
 * name: the smallest real proof that the kernel can run that architecture.
 */
export function probeExecutable(arch: Arch): Buffer {
  const EHDR = 64;
  const PHDR = 56;
  const base = 0x400000n;
  const code = PROBE_CODE[arch];
  const message = Buffer.from(`${arch}\n`);
  const size = EHDR + PHDR + code.length + message.length;
  const elf = Buffer.alloc(size);
  elf.write("\x7fELF", 0, "latin1");
  elf[4] = 2; // 64-bit
  elf[5] = 1; // little-endian
  elf[6] = 1; // ELF version
  elf.writeUInt16LE(2, 16); // ET_EXEC
  elf.writeUInt16LE(ARCHES[arch].elfMachine, 18);
  elf.writeUInt32LE(1, 20);
  elf.writeBigUInt64LE(base + BigInt(EHDR + PHDR), 24); // entry point
  elf.writeBigUInt64LE(BigInt(EHDR), 32); // program headers
  elf.writeUInt16LE(EHDR, 52);
  elf.writeUInt16LE(PHDR, 54);
  elf.writeUInt16LE(1, 56);
  elf.writeUInt16LE(64, 58);
  // One PT_LOAD segment, read + execute, mapping the whole file at `base`.
  elf.writeUInt32LE(1, EHDR);
  elf.writeUInt32LE(5, EHDR + 4);
  elf.writeBigUInt64LE(base, EHDR + 16);
  elf.writeBigUInt64LE(base, EHDR + 24);
  elf.writeBigUInt64LE(BigInt(size), EHDR + 32);
  elf.writeBigUInt64LE(BigInt(size), EHDR + 40);
  elf.writeBigUInt64LE(0x10000n, EHDR + 48);
  code.copy(elf, EHDR + PHDR);
  message.copy(elf, EHDR + PHDR + code.length);
  return elf;
}

/** A registered binfmt_misc handler, as `/proc/sys/fs/binfmt_misc/<name>` describes it. */
export interface BinfmtHandler {
  enabled: boolean;
  interpreter: string | undefined;
  flags: string;
}

export function parseBinfmtHandler(text: string): BinfmtHandler {
  const lines = text.split("\n").map((l) => l.trim());
  return {
    enabled: lines.includes("enabled"),
    interpreter: lines.find((l) => l.startsWith("interpreter "))?.slice("interpreter ".length),
    flags:
      lines
        .find((l) => l.startsWith("flags:"))
        ?.slice("flags:".length)
        .trim() ?? "",
  };
}

export type EmulationStatus = { ok: true } | { ok: false; reason: string };

/** Runs an executable and reports whether it printed `expected`; the reason says why not. */
export async function probeRuns(file: string, expected: string): Promise<EmulationStatus> {
  try {
    const out = await run(file, [], { timeoutMs: 20_000 });
    if (out.trim() === expected) return { ok: true };
    return { ok: false, reason: `${file} printed ${JSON.stringify(out)}, not ${expected}` };
  } catch (err) {
    const why = err instanceof Error ? (err.message.split("\n")[0] ?? err.message) : String(err);
    return { ok: false, reason: `${file} did not run: ${why}` };
  }
}

/**
 * Whether this machine runs `arch` binaries, in containers too: binfmt_misc is
 * mounted and enabled, a `qemu-<arch>` handler is registered and enabled with
 * the F flag (the kernel opens the interpreter at registration, so it works in
 * containers that do not have it), and a real `arch` executable runs.
 */
export async function emulationStatus(
  arch: Arch,
  binfmtDir: string = BINFMT_DIR,
  /** Where the probe is written; not a `noexec` mount (the cache, in setup). */
  workDir: string = tmpdir(),
): Promise<EmulationStatus> {
  const name = handlerName(arch);
  const statusFile = join(binfmtDir, "status");
  if (!existsSync(statusFile)) {
    return { ok: false, reason: `binfmt_misc is not mounted at ${binfmtDir}` };
  }
  if (readFileSync(statusFile, "utf8").trim() !== "enabled") {
    return { ok: false, reason: `binfmt_misc is disabled (${statusFile})` };
  }
  const handlerFile = join(binfmtDir, name);
  if (!existsSync(handlerFile)) {
    return { ok: false, reason: `no ${name} handler is registered in ${binfmtDir}` };
  }
  const handler = parseBinfmtHandler(readFileSync(handlerFile, "utf8"));
  if (!handler.enabled) return { ok: false, reason: `the ${name} handler is disabled` };
  if (!handler.flags.includes("F")) {
    return {
      ok: false,
      reason: `the ${name} handler is registered without the F flag (flags "${handler.flags}"), so containers cannot use it`,
    };
  }
  const dir = mkdtempSync(join(workDir, "binfmt-probe-"));
  try {
    const probe = join(dir, `probe-${arch}`);
    writeFileSync(probe, probeExecutable(arch));
    chmodSync(probe, 0o755);
    return await probeRuns(probe, arch);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
