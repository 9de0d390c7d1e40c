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

/** One entry of an image index: the platform it is for and its manifest digest. */
export interface IndexEntry {
  platform: string;
  digest: string;
}

/**
 * A GET that answers a registry's Bearer challenge (`WWW-Authenticate: Bearer
 * realm=…,service=…,scope=…`, as GHCR and Docker Hub send) by fetching a token
 * from the realm with the credentials, then asking again; Basic otherwise.
 */
async function readWithChallenge(
  url: string,
  auth?: { username: string; password: string },
  method: "GET" | "HEAD" = "GET",
): Promise<Response> {
  const get = (headers: Record<string, string>) =>
    fetch(url, {
      method,
      headers: { Accept: MANIFEST_ACCEPT, ...headers },
      signal: AbortSignal.timeout(10_000),
    });
  const first = await get(authHeader(auth));
  const challenge = first.headers.get("www-authenticate") ?? "";
  if (first.status !== 401 || !/^bearer /i.test(challenge)) return first;
  await first.body?.cancel();
  const params = Object.fromEntries(
    [...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
  ) as Record<string, string>;
  if (!params.realm) return first;
  const tokenUrl = new URL(params.realm);
  if (params.service) tokenUrl.searchParams.set("service", params.service);
  if (params.scope) tokenUrl.searchParams.set("scope", params.scope);
  const tokenRes = await fetch(tokenUrl, {
    headers: authHeader(auth),
    signal: AbortSignal.timeout(10_000),
  });
  if (!tokenRes.ok) return tokenRes;
  const body = (await tokenRes.json()) as { token?: string; access_token?: string };
  return get({ Authorization: `Bearer ${body.token ?? body.access_token ?? ""}` });
}

/**
 * The digest `repo:reference` has at `registry` now, asked with a HEAD (which
 * Docker Hub does not count against its pull limit), anonymous tokens fetched
 * as the registry's challenge asks; undefined when the registry has no such
 * manifest. Throws when it cannot be reached or answers anything else.
 */
export async function currentDigest(
  registry: string,
  repo: string,
  reference: string,
  options: { https: boolean },
): Promise<string | undefined> {
  const host = registry === "docker.io" ? "registry-1.docker.io" : registry;
  const res = await readWithChallenge(
    `${options.https ? "https" : "http"}://${host}/v2/${repo}/manifests/${reference}`,
    undefined,
    "HEAD",
  );
  if (res.status === 404) return undefined;
  const digest = res.headers.get("docker-content-digest");
  if (!res.ok || !digest)
    throw new Error(
      `HEAD /v2/${repo}/manifests/${reference} at ${host} answered ${res.status}${res.ok ? " without a digest" : ""}`,
    );
  return digest;
}

/**
 * What `repo:tag` is: an index (OCI image index or Docker manifest list) with
 * its entries as `os/arch[/variant]`, a single-platform manifest, or absent.
 */
export async function manifestKind(
  registry: string,
  repo: string,
  tag: string,
  auth?: { username: string; password: string },
  options: { https?: boolean } = {},
): Promise<
  | { kind: "index"; mediaType: string; digest: string; entries: IndexEntry[] }
  | { kind: "manifest"; mediaType: string; digest: string }
  | { kind: "absent" }
> {
  const host = registry === "docker.io" ? "registry-1.docker.io" : registry;
  const res = await readWithChallenge(
    `${options.https ? "https" : "http"}://${host}/v2/${repo}/manifests/${tag}`,
    auth,
  );
  if (res.status === 404) return { kind: "absent" };
  if (!res.ok) throw new Error(`GET /v2/${repo}/manifests/${tag} answered ${res.status}`);
  const body = (await res.json()) as {
    mediaType?: string;
    manifests?: {
      digest: string;
      platform?: { os: string; architecture: string; variant?: string };
    }[];
  };
  const mediaType = res.headers.get("content-type") ?? body.mediaType ?? "";
  const digest = res.headers.get("docker-content-digest") ?? "";
  if (!body.manifests) return { kind: "manifest", mediaType, digest };
  return {
    kind: "index",
    mediaType,
    digest,
    entries: body.manifests.map((m) => ({
      digest: m.digest,
      platform: m.platform
        ? [m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join("/")
        : "unknown",
    })),
  };
}
