import { parseImageRef } from "../../host/image-ref.js";
import { ImageRefError } from "../errors.js";

/** An image pinned by digest: what cosign signs, attests and verifies. */
export interface DigestRef {
  /** `registry[:port]`, `docker.io` when the reference names none. */
  registry: string;
  /** The repository with its registry, as written: `ghcr.io/owner/app`. */
  repository: string;
  /** `sha256:<64 hex>`. */
  digest: string;
  /** `repository@digest`. */
  ref: string;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * Parses `repository@sha256:<hex>`. A tag (`app:1.2.3`), a tag plus digest (`app:1.2@sha256:…`)
 * or a malformed digest is refused: a tag can move after signing, a digest cannot.
 */
export function parseDigestRef(ref: string): DigestRef {
  const at = ref.indexOf("@");
  if (at === -1) {
    throw new ImageRefError(
      `${JSON.stringify(ref)} names no digest: cosign signs and verifies images by digest only, because a tag can be moved to another image after signing. Pass repository@sha256:<digest> (the digest publish reported).`,
    );
  }
  const repository = ref.slice(0, at);
  const digest = ref.slice(at + 1);
  if (!DIGEST.test(digest)) {
    throw new ImageRefError(
      `${JSON.stringify(ref)}: ${JSON.stringify(digest)} is not a sha256 digest; expected sha256: and 64 lowercase hex digits.`,
    );
  }
  const lastSlash = repository.lastIndexOf("/");
  if (repository.lastIndexOf(":") > lastSlash) {
    throw new ImageRefError(
      `${JSON.stringify(ref)} carries a tag as well as a digest: drop the tag and pass ${repository.slice(0, repository.lastIndexOf(":"))}@${digest}, so what is signed is named by the digest alone.`,
    );
  }
  if (repository === "" || /[A-Z\s]/.test(repository.slice(repository.indexOf("/") + 1))) {
    throw new ImageRefError(
      `${JSON.stringify(ref)}: ${JSON.stringify(repository)} is not a repository name (lowercase, no spaces).`,
    );
  }
  return { registry: parseImageRef(repository).registry, repository, digest, ref };
}

/**
 * Where cosign stores a digest's signature (`.sig`) or attestations (`.att`): the tag
 * `sha256-<hex>.<kind>` in the image's own repository (cosign's default, unless COSIGN_REPOSITORY
 * moves it; the signing modules clear that variable).
 */
export function cosignArtifactRef(ref: DigestRef, kind: "sig" | "att"): string {
  return `${ref.repository}:${ref.digest.replace(":", "-")}.${kind}`;
}
