/** Minimal OCI distribution API reads used by setup, doctor and tests. */

const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** Splits `repo:tag` (no registry host) into its parts; the tag defaults to `latest`. */
export function splitRef(ref: string): { repo: string; tag: string } {
  const at = ref.lastIndexOf(":");
  if (at > ref.lastIndexOf("/")) return { repo: ref.slice(0, at), tag: ref.slice(at + 1) };
  return { repo: ref, tag: "latest" };
}

/** Maps an upstream reference to its path in a mirror, as registry mirrors do (`node` → `library/node`). */
export function mirrorPath(upstreamRef: string): string {
  const firstSlash = upstreamRef.indexOf("/");
  const first = firstSlash === -1 ? "" : upstreamRef.slice(0, firstSlash);
  const hasHost = first.includes(".") || first.includes(":") || first === "localhost";
  if (hasHost) return upstreamRef.slice(firstSlash + 1);
  return firstSlash === -1 ? `library/${upstreamRef}` : upstreamRef;
}

/**
 * The manifest digest of `repo:tag` at `registry` (host:port, plain HTTP), or
 * undefined when it is absent.
 */
export async function manifestDigest(
  registry: string,
  repo: string,
  tag: string,
  auth?: { username: string; password: string },
): Promise<string | undefined> {
  const headers: Record<string, string> = { Accept: MANIFEST_ACCEPT };
  if (auth)
    headers.Authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
  try {
    const res = await fetch(`http://${registry}/v2/${repo}/manifests/${tag}`, {
      method: "HEAD",
      headers,
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) return undefined;
    return res.headers.get("docker-content-digest") ?? undefined;
  } catch {
    return undefined;
  }
}
