import { ToolchainError, ToolchainErrorCode } from "../host/errors.js";
import { versions } from "./versions.js";

/** A Sigstore keyless identity: who signed (the workflow) and who vouched for it (the OIDC issuer). */
export interface KeylessIdentity {
  identity: string;
  issuer: string;
}

/** One official release download and how its project lets us check it. */
export interface ReleaseAsset {
  /** The binary's name in the toolchain's bin dir. */
  tool: string;
  /** File name of the release asset. */
  asset: string;
  /** Upstream URL of the asset (rewritten under DOWNLOAD_MIRROR). */
  url: string;
  /** Upstream URL of the checksums file the project publishes next to it. */
  checksumsUrl: string;
  /** The file inside a `.tar.gz` asset to install; undefined when the asset is the binary. */
  member?: string;
  /** A cosign bundle over the checksums file, and the identity that must have signed it. */
  signature?: { bundleUrl: string } & KeylessIdentity;
}

const GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com";

type Arch = "amd64" | "arm64";

function hostArch(): Arch {
  if (process.arch === "x64") return "amd64";
  if (process.arch === "arm64") return "arm64";
  throw new ToolchainError(
    ToolchainErrorCode.Unsupported,
    `No official release binaries for ${process.arch}.`,
    { hint: "Run on linux/amd64 or linux/arm64, or air-gapped (AIRGAP=1) to build from source." },
  );
}

function github(repo: string, tag: string, file: string): string {
  return `https://github.com/${repo}/releases/download/${tag}/${file}`;
}

/**
 * The official linux release of each downloaded tool, with the names and
 * checksum files its project publishes (checked against each project's release
 * configuration at the pinned version: GoReleaser's default
 * `<project>_<version>_checksums.txt` for Trivy and actionlint, `cosign_checksums.txt`,
 * `checksums.txt` for Compose, Buildx and Dagger).
 */
export function releaseAsset(tool: string, arch: Arch = hostArch()): ReleaseAsset {
  const a64 = arch === "amd64";
  switch (tool) {
    case "cosign": {
      const tag = `v${versions.cosign}`;
      const asset = `cosign-linux-${arch}`;
      return {
        tool,
        asset,
        url: github("sigstore/cosign", tag, asset),
        checksumsUrl: github("sigstore/cosign", tag, "cosign_checksums.txt"),
      };
    }
    case "actionlint": {
      const v = versions.actionlint;
      const asset = `actionlint_${v}_linux_${arch}.tar.gz`;
      return {
        tool,
        asset,
        url: github("rhysd/actionlint", `v${v}`, asset),
        checksumsUrl: github("rhysd/actionlint", `v${v}`, `actionlint_${v}_checksums.txt`),
        member: "actionlint",
      };
    }
    case "docker-compose": {
      const tag = `v${versions.compose}`;
      const asset = `docker-compose-linux-${a64 ? "x86_64" : "aarch64"}`;
      return {
        tool,
        asset,
        url: github("docker/compose", tag, asset),
        checksumsUrl: github("docker/compose", tag, "checksums.txt"),
      };
    }
    case "docker-buildx": {
      const tag = `v${versions.buildx}`;
      const asset = `buildx-${tag}.linux-${arch}`;
      return {
        tool,
        asset,
        url: github("docker/buildx", tag, asset),
        checksumsUrl: github("docker/buildx", tag, "checksums.txt"),
      };
    }
    case "trivy": {
      const v = versions.trivy;
      const tag = `v${v}`;
      const asset = `trivy_${v}_Linux-${a64 ? "64bit" : "ARM64"}.tar.gz`;
      const checksums = `trivy_${v}_checksums.txt`;
      return {
        tool,
        asset,
        url: github("aquasecurity/trivy", tag, asset),
        checksumsUrl: github("aquasecurity/trivy", tag, checksums),
        member: "trivy",
        // Trivy signs every release asset, the checksums file included, with a Sigstore
        // bundle from its release workflow (docs/getting-started/signature-verification.md).
        signature: {
          bundleUrl: github("aquasecurity/trivy", tag, `${checksums}.sigstore.json`),
          identity: `https://github.com/aquasecurity/trivy/.github/workflows/reusable-release.yaml@refs/tags/${tag}`,
          issuer: GITHUB_ACTIONS_ISSUER,
        },
      };
    }
    case "dagger": {
      const v = versions.dagger;
      const asset = `dagger_v${v}_linux_${arch}.tar.gz`;
      const base = `https://dl.dagger.io/dagger/releases/${v}`;
      return {
        tool,
        asset,
        url: `${base}/${asset}`,
        checksumsUrl: `${base}/checksums.txt`,
        member: "dagger",
      };
    }
    default:
      throw new ToolchainError(ToolchainErrorCode.Unsupported, `No release download for ${tool}.`);
  }
}

/** Where a URL is fetched from: `<mirror>/<host>/<path>` under DOWNLOAD_MIRROR, else itself. */
export function mirrored(url: string, mirror: string | undefined): string {
  if (!mirror) return url;
  const u = new URL(url);
  return `${mirror.replace(/\/+$/, "")}/${u.host}${u.pathname}${u.search}`;
}
