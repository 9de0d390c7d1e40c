import { ToolchainError, ToolchainErrorCode } from "./errors.js";

/**
 * The Linux platforms the toolchain prepares base images for, and how each
 * naming scheme spells their architecture: OCI (`amd64`), Node.js and its npm
 * packages (`x64`), QEMU and binfmt_misc (`x86_64`), ELF (`e_machine`).
 */
export const ARCHES = {
  amd64: { platform: "linux/amd64", node: "x64", qemu: "x86_64", elfMachine: 62 },
  arm64: { platform: "linux/arm64", node: "arm64", qemu: "aarch64", elfMachine: 183 },
} as const;
export type Arch = keyof typeof ARCHES;

/** Every architecture, the host's first. */
export function allArches(host: Arch = hostArch()): Arch[] {
  return [host, ...(Object.keys(ARCHES) as Arch[]).filter((a) => a !== host)];
}

/** Architectures this host runs only under emulation. */
export function foreignArches(host: Arch = hostArch()): Arch[] {
  return allArches(host).filter((a) => a !== host);
}

/** The host's architecture in OCI terms; throws on a host the toolchain does not support. */
export function hostArch(nodeArch: string = process.arch): Arch {
  const found = (Object.keys(ARCHES) as Arch[]).find((a) => ARCHES[a].node === nodeArch);
  if (!found) {
    throw new ToolchainError(
      ToolchainErrorCode.Unsupported,
      `This machine's architecture (${nodeArch}) is not one the toolchain builds base images for.`,
      {
        hint: `Run it on ${Object.values(ARCHES)
          .map((a) => a.platform)
          .join(" or ")}.`,
      },
    );
  }
  return found;
}

/** The architecture of an OCI platform (`linux/arm64` → `arm64`); throws for one the toolchain does not know. */
export function archOf(platform: string): Arch {
  const found = (Object.keys(ARCHES) as Arch[]).find((a) => ARCHES[a].platform === platform);
  if (!found) {
    throw new ToolchainError(
      ToolchainErrorCode.Unsupported,
      `${platform} is not a platform the toolchain can emulate (it knows ${Object.values(ARCHES)
        .map((a) => a.platform)
        .join(", ")}).`,
    );
  }
  return found;
}
