import { createHash } from "node:crypto";
import { basicAuth, MANIFEST_ACCEPT } from "../toolchain/registry-api.js";

/** Where and as whom to talk to an OCI distribution registry. */
export interface RegistryAccess {
  /** `host[:port]`. */
  host: string;
  /** Plain HTTP (local registries); HTTPS otherwise. */
  http: boolean;
  username: string;
  password: string;
}

export interface Manifest {
  mediaType: string;
  body: string;
  digest: string;
}

/** `sha256:<hex>` of some bytes. */
export function digestOf(bytes: string | Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** Parses `Bearer realm="…",service="…",scope="…"`. */
export function parseChallenge(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of header.replace(/^Bearer\s+/i, "").matchAll(/(\w+)="([^"]*)"/g)) {
    if (m[1] && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

/**
 * A minimal registry client for the few calls the pipeline makes after
 * Dagger's push: read a manifest and a blob, upload a blob, put a manifest.
 * Handles Basic auth and the Bearer token challenge (GHCR, Docker Hub).
 */
export class RegistryClient {
  private readonly access: RegistryAccess;
  private token: string | undefined;

  constructor(access: RegistryAccess) {
    this.access = access;
  }

  private url(path: string): string {
    return `${this.access.http ? "http" : "https"}://${this.access.host}${path}`;
  }

  private basic(): string {
    return basicAuth(this.access);
  }

  private async request(
    method: string,
    path: string,
    init: { headers?: Record<string, string>; body?: string | Buffer } = {},
  ): Promise<Response> {
    const send = () =>
      fetch(path.startsWith("http") ? path : this.url(path), {
        method,
        headers: {
          Authorization: this.token ? `Bearer ${this.token}` : this.basic(),
          ...init.headers,
        },
        ...(init.body !== undefined ? { body: init.body } : {}),
        redirect: "follow",
        signal: AbortSignal.timeout(60_000),
      });
    let res = await send();
    const challenge = res.headers.get("www-authenticate");
    if (res.status === 401 && challenge?.toLowerCase().startsWith("bearer")) {
      await res.body?.cancel();
      const c = parseChallenge(challenge);
      if (!c.realm)
        throw new Error(`registry ${this.access.host} sent a Bearer challenge without a realm`);
      const tokenUrl = new URL(c.realm);
      if (c.service) tokenUrl.searchParams.set("service", c.service);
      if (c.scope) tokenUrl.searchParams.set("scope", c.scope.replace(/:pull$/, ":pull,push"));
      const tokenRes = await fetch(tokenUrl, {
        headers: { Authorization: this.basic() },
        signal: AbortSignal.timeout(30_000),
      });
      if (!tokenRes.ok)
        throw new Error(
          `registry ${this.access.host} refused the credentials (token endpoint answered ${tokenRes.status})`,
        );
      const body = (await tokenRes.json()) as { token?: string; access_token?: string };
      this.token = body.token ?? body.access_token;
      res = await send();
    }
    if (res.status === 401)
      throw new Error(
        `registry ${this.access.host} refused the credentials (401 on ${method} ${path.split("?")[0]})`,
      );
    return res;
  }

  async getManifest(repo: string, reference: string): Promise<Manifest> {
    const res = await this.request("GET", `/v2/${repo}/manifests/${reference}`, {
      headers: { Accept: MANIFEST_ACCEPT },
    });
    if (!res.ok) throw new Error(`GET manifest ${repo}:${reference} answered ${res.status}`);
    const body = await res.text();
    return {
      mediaType: res.headers.get("content-type") ?? "",
      body,
      digest: res.headers.get("docker-content-digest") ?? digestOf(body),
    };
  }

  async getBlob(repo: string, digest: string): Promise<Buffer> {
    const res = await this.request("GET", `/v2/${repo}/blobs/${digest}`);
    if (!res.ok) throw new Error(`GET blob ${repo}@${digest} answered ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  }

  /** Monolithic upload: POST to open a session, PUT the bytes with their digest. */
  async putBlob(repo: string, bytes: Buffer): Promise<string> {
    const digest = digestOf(bytes);
    const start = await this.request("POST", `/v2/${repo}/blobs/uploads/`);
    await start.body?.cancel();
    const location = start.headers.get("location");
    if (start.status !== 202 || !location)
      throw new Error(`starting a blob upload to ${repo} answered ${start.status}`);
    const url = new URL(location, this.url("/"));
    url.searchParams.set("digest", digest);
    const put = await this.request("PUT", url.toString(), {
      headers: { "Content-Type": "application/octet-stream" },
      body: bytes,
    });
    await put.body?.cancel();
    if (put.status !== 201)
      throw new Error(`uploading blob ${digest} to ${repo} answered ${put.status}`);
    return digest;
  }

  async putManifest(
    repo: string,
    reference: string,
    manifest: { mediaType: string; body: string },
  ): Promise<string> {
    const res = await this.request("PUT", `/v2/${repo}/manifests/${reference}`, {
      headers: { "Content-Type": manifest.mediaType },
      body: manifest.body,
    });
    await res.body?.cancel();
    if (res.status !== 201)
      throw new Error(`PUT manifest ${repo}:${reference} answered ${res.status}`);
    return res.headers.get("docker-content-digest") ?? digestOf(manifest.body);
  }
}
