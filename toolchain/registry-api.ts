/** Minimal OCI distribution API reads used by setup, doctor and tests. */

/** Every manifest media type the pipeline reads: OCI and Docker, single images and indexes. */
export const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** The `Authorization` value for registry credentials. */
export function basicAuth(auth: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
}

function authHeader(auth?: { username: string; password: string }): Record<string, string> {
  return auth ? { Authorization: basicAuth(auth) } : {};
}

/** The OCI image config of `repo:tag` (labels, user, healthcheck, …); follows an index to its first manifest. */
export async function imageConfig(
  registry: string,
  repo: string,
  tag: string,
  auth?: { username: string; password: string },
): Promise<ImageConfig> {
  const get = async (path: string, accept = MANIFEST_ACCEPT) => {
    const res = await fetch(`http://${registry}/v2/${repo}/${path}`, {
      headers: { Accept: accept, ...authHeader(auth) },
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`GET /v2/${repo}/${path} answered ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  };
  let manifest = await get(`manifests/${tag}`);
  const entries = manifest.manifests as { digest: string }[] | undefined;
  if (entries?.[0]) manifest = await get(`manifests/${entries[0].digest}`);
  const config = manifest.config as { digest: string } | undefined;
  if (!config) throw new Error(`${repo}:${tag} has no image config`);
  return (await get(`blobs/${config.digest}`, "*/*")) as ImageConfig;
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  config?: {
    User?: string;
    Labels?: Record<string, string>;
    Healthcheck?: {
      Test?: string[];
      Interval?: number;
      Timeout?: number;
      StartPeriod?: number;
      StartInterval?: number;
      Retries?: number;
    };
    Env?: string[];
    ExposedPorts?: Record<string, object>;
  };
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
  const headers: Record<string, string> = { Accept: MANIFEST_ACCEPT, ...authHeader(auth) };
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
