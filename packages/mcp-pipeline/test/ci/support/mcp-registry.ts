import { createHash, randomBytes } from "node:crypto";
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createSecureContext, TLSSocket } from "node:tls";
import { gzipSync } from "node:zlib";
import { execa, type ResultPromise } from "execa";
import { SignJWT } from "jose";
import { testProcessMark } from "../../../../../test/app/support/processes.js";
import { freePort } from "../../../src/ci/docker/free-port.js";
import { which } from "../../../src/host/exec.js";
import { MANIFEST_ACCEPT } from "../../../src/host/registry-api.js";
import { toolchainEnv } from "../../../src/toolchain/env.js";
import { toolchainPaths } from "../../../src/toolchain/settings.js";
import {
  ensureMcpRegistryTools,
  postgresBinDir,
} from "../../../src/toolchain/steps/mcp-registry.js";

// A real MCP Registry (github.com/modelcontextprotocol/registry, the pinned build) on loopback,
// with a real PostgreSQL in a temporary directory, and an OCI registry its validator really
// fetches images from. The validator only fetches from its allowlist (docker.io, ghcr.io,
// quay.io, mcr.microsoft.com, *.pkg.dev, *.azurecr.io) over HTTPS, so the registry process gets
// HTTPS_PROXY pointing at a CONNECT proxy of this fixture that answers only for OCI_HOST (under
// *.pkg.dev) with a certificate made here, trusted through SSL_CERT_FILE, and tunnels to a
// Debian `docker-registry` on a loopback port. Nothing leaves the machine; no upstream code is
// changed.

/** The allowed-looking OCI host the registry's validator reaches through the fixture's proxy. */
export const OCI_HOST = "mcp-pipeline-test.pkg.dev";

/** Who runs PostgreSQL: it refuses root. */
const PG_USER = { uid: 65534, gid: 65534 };

export interface McpRegistryFixture {
  /** The registry's base URL, e.g. http://127.0.0.1:40123. */
  url: string;
  /** Pushes a one-layer image with these labels as `OCI_HOST/<repo>:<tag>`; its manifest digest. */
  pushImage(repo: string, tag: string, labels: Record<string, string>): Promise<string>;
  /** Pushes an index of one image per architecture, each with its labels; the index's digest. */
  pushIndex(
    repo: string,
    tag: string,
    byArch: Record<string, Record<string, string>>,
  ): Promise<string>;
  /**
   * Copies an image (an index and its images, or one image) by digest from a registry on loopback
   * to `OCI_HOST/<repo>:<tag>`, byte for byte, so its digest is the same there.
   */
  mirrorImage(
    source: { address: string; repository: string; digest: string; authorization?: string },
    repo: string,
    tag: string,
  ): Promise<void>;
  /** A registry token (as the registry would issue one after a login) with these permissions. */
  token(permissions: { action: "publish" | "edit"; resource: string }[]): Promise<string>;
  /** The registry's log so far. */
  log(): string;
  stop(): Promise<void>;
}

interface Proc {
  child: ResultPromise;
  output: string[];
}

function start(file: string, args: string[], env: Record<string, string>, asPg = false): Proc {
  const output: string[] = [];
  const root = process.getuid?.() === 0;
  const child = execa(file, args, {
    env: { ...env, ...testProcessMark() },
    extendEnv: false,
    all: true,
    buffer: false,
    reject: false,
    detached: true,
    ...(asPg && root ? PG_USER : {}),
  });
  child.all?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  return { child, output };
}

async function stopProc(proc: Proc | undefined, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (!proc?.child.pid || proc.child.exitCode !== null) return;
  try {
    process.kill(-proc.child.pid, signal);
  } catch {
    return; // Already gone.
  }
  const ended = await Promise.race([proc.child.then(() => true), sleep(10_000).then(() => false)]);
  if (!ended) {
    try {
      process.kill(-proc.child.pid, "SIGKILL");
    } catch {
      // Ended meanwhile.
    }
    await proc.child;
  }
}

async function waitFor(what: string, proc: Proc, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null)
      throw new Error(`${what} exited early:\n${proc.output.join("")}`);
    if (await ready().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`${what} was not ready within 60 s:\n${proc.output.join("")}`);
}

const sha256 = (data: Buffer | string) =>
  `sha256:${createHash("sha256").update(data).digest("hex")}`;

interface Pushed {
  digest: string;
  descriptor: { mediaType: string; digest: string; size: number };
}

/** Writes images to a registry through the distribution API: blobs, then the manifest. */
function ociWriter(base: string) {
  async function blob(repo: string, data: Buffer): Promise<void> {
    const started = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: "POST" });
    const location = new URL(started.headers.get("location") ?? "", base);
    location.searchParams.set("digest", sha256(data));
    const put = await fetch(location, { method: "PUT", body: data });
    if (!put.ok) throw new Error(`blob upload answered ${put.status}`);
  }
  async function put(repo: string, ref: string, mediaType: string, body: Buffer): Promise<void> {
    const res = await fetch(`${base}/v2/${repo}/manifests/${ref}`, {
      method: "PUT",
      headers: { "Content-Type": mediaType },
      body,
    });
    if (!res.ok) throw new Error(`manifest upload answered ${res.status}: ${await res.text()}`);
  }
  return {
    blob,
    put,
    /** A one-layer linux image for `arch` with these labels; pushed by digest, not tagged. */
    async image(repo: string, arch: string, labels: Record<string, string>): Promise<string> {
      const layer = gzipSync(Buffer.alloc(1024));
      const config = Buffer.from(
        JSON.stringify({
          architecture: arch,
          os: "linux",
          config: { Labels: labels },
          rootfs: { type: "layers", diff_ids: [sha256(Buffer.alloc(1024))] },
        }),
      );
      await blob(repo, layer);
      await blob(repo, config);
      return JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: sha256(config),
          size: config.length,
        },
        layers: [
          {
            mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
            digest: sha256(layer),
            size: layer.length,
          },
        ],
      });
    },
    /** PUTs a manifest under `ref` (a tag or its digest). */
    async manifest(repo: string, ref: string, body: string): Promise<Pushed> {
      const mediaType = "application/vnd.oci.image.manifest.v1+json";
      const put = await fetch(`${base}/v2/${repo}/manifests/${ref}`, {
        method: "PUT",
        headers: { "Content-Type": mediaType },
        body,
      });
      if (!put.ok) throw new Error(`manifest upload answered ${put.status}: ${await put.text()}`);
      const digest = sha256(body);
      return { digest, descriptor: { mediaType, digest, size: Buffer.byteLength(body) } };
    },
  };
}

/** Starts PostgreSQL, the OCI registry, the proxy and the MCP Registry; `stop()` ends them all. */
export async function startMcpRegistry(): Promise<McpRegistryFixture> {
  const paths = toolchainPaths();
  const env = toolchainEnv(paths);
  const bins = await ensureMcpRegistryTools({
    paths,
    env,
    logFile: join(paths.logs, "mcp-registry-build.log"),
    note: () => {},
  });
  const pgBin = postgresBinDir(env);
  if (!pgBin)
    throw new Error("PostgreSQL is not installed: run `npm run setup -- --with-mcp-registry`");
  if (!which("docker-registry", env))
    throw new Error(
      "docker-registry is not installed: run `npm run setup -- --with-local-registry`",
    );
  const dir = mkdtempSync(join(tmpdir(), "mcp-registry-test-"));
  if (process.getuid?.() === 0) chownSync(dir, PG_USER.uid, PG_USER.gid);
  const procs: Proc[] = [];
  const servers: Server[] = [];
  const stop = async () => {
    for (const proc of procs.reverse())
      await stopProc(proc, proc.child.spawnargs[0]?.endsWith("postgres") ? "SIGINT" : "SIGTERM");
    for (const server of servers) await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const base = { PATH: env.PATH ?? "/usr/bin:/bin", HOME: dir };
    // PostgreSQL: a cluster of its own, trusted on loopback only, gone with the directory.
    await execa(
      join(pgBin, "initdb"),
      ["-D", join(dir, "pg"), "-U", "registry", "--auth=trust", "-E", "UTF8", "--no-locale"],
      { env: base, extendEnv: false, ...(process.getuid?.() === 0 ? PG_USER : {}) },
    );
    const pgPort = await freePort();
    const pg = start(
      join(pgBin, "postgres"),
      ["-D", join(dir, "pg"), "-p", String(pgPort), "-k", dir, "-c", "listen_addresses=127.0.0.1"],
      base,
      true,
    );
    procs.push(pg);
    await waitFor(
      "PostgreSQL",
      pg,
      async () =>
        (
          await execa(join(pgBin, "pg_isready"), ["-h", "127.0.0.1", "-p", String(pgPort)], {
            reject: false,
          })
        ).exitCode === 0,
    );

    // The OCI registry the images live in (plain HTTP on loopback; TLS is the proxy's).
    const ociPort = await freePort();
    writeFileSync(
      join(dir, "oci.yml"),
      `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, "oci")}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${ociPort}\n`,
    );
    const oci = start("docker-registry", ["serve", join(dir, "oci.yml")], base);
    procs.push(oci);
    const ociUrl = `http://127.0.0.1:${ociPort}`;
    await waitFor("docker-registry", oci, async () => (await fetch(`${ociUrl}/v2/`)).ok);

    // A certificate for OCI_HOST, and a CONNECT proxy that tunnels only OCI_HOST:443 to it.
    await execa("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
      "-days",
      "1",
      "-subj",
      `/CN=${OCI_HOST}`,
      "-addext",
      `subjectAltName=DNS:${OCI_HOST}`,
    ]);
    const secureContext = createSecureContext({
      key: readFileSync(join(dir, "key.pem")),
      cert: readFileSync(join(dir, "cert.pem")),
    });
    const proxy = createServer((client) => {
      client.once("data", (head) => {
        const target = /^CONNECT (\S+) HTTP/.exec(head.toString())?.[1];
        if (target !== `${OCI_HOST}:443`) {
          client.end("HTTP/1.1 403 Forbidden\r\n\r\n");
          return;
        }
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        const tls = new TLSSocket(client, { isServer: true, secureContext });
        const upstream = tcpConnect(ociPort, "127.0.0.1");
        tls.pipe(upstream).pipe(tls);
        const close = () => {
          tls.destroy();
          upstream.destroy();
        };
        tls.on("error", close);
        upstream.on("error", close);
      });
      client.on("error", () => client.destroy());
    });
    servers.push(proxy);
    const proxyPort = await freePort();
    await new Promise<void>((r) => proxy.listen(proxyPort, "127.0.0.1", r));

    // The MCP Registry: anonymous logins allowed, validation on, its JWTs signed with our seed.
    const seed = randomBytes(32);
    const port = await freePort();
    const registry = start(bins.registry, [], {
      ...base,
      MCP_REGISTRY_DATABASE_URL: `postgres://registry@127.0.0.1:${pgPort}/postgres?sslmode=disable`,
      MCP_REGISTRY_SERVER_ADDRESS: `127.0.0.1:${port}`,
      MCP_REGISTRY_JWT_PRIVATE_KEY: seed.toString("hex"),
      MCP_REGISTRY_ENABLE_ANONYMOUS_AUTH: "true",
      MCP_REGISTRY_ENABLE_REGISTRY_VALIDATION: "true",
      MCP_REGISTRY_SEED_FROM: "",
      HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`,
      SSL_CERT_FILE: join(dir, "cert.pem"),
    });
    procs.push(registry);
    const url = `http://127.0.0.1:${port}`;
    await waitFor("the MCP Registry", registry, async () => (await fetch(`${url}/v0/health`)).ok);

    // An Ed25519 key from the seed, as the registry's JWT manager makes it (PKCS#8 prefix + seed).
    const { createPrivateKey } = await import("node:crypto");
    const key = createPrivateKey({
      key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]),
      format: "der",
      type: "pkcs8",
    });

    const images = ociWriter(ociUrl);

    return {
      url,
      pushImage: async (repo, tag, labels) =>
        (await images.manifest(repo, tag, await images.image(repo, "amd64", labels))).digest,
      async pushIndex(repo, tag, byArch) {
        const manifests = [];
        for (const [arch, labels] of Object.entries(byArch)) {
          const body = await images.image(repo, arch, labels);
          const { descriptor } = await images.manifest(repo, sha256(body), body);
          manifests.push({ ...descriptor, platform: { architecture: arch, os: "linux" } });
        }
        const index = JSON.stringify({
          schemaVersion: 2,
          mediaType: "application/vnd.oci.image.index.v1+json",
          manifests,
        });
        const put = await fetch(`${ociUrl}/v2/${repo}/manifests/${tag}`, {
          method: "PUT",
          headers: { "Content-Type": "application/vnd.oci.image.index.v1+json" },
          body: index,
        });
        if (!put.ok) throw new Error(`index upload answered ${put.status}: ${await put.text()}`);
        return sha256(index);
      },
      async mirrorImage(source, repo, tag) {
        const headers = source.authorization ? { Authorization: source.authorization } : {};
        const get = async (path: string, accept = MANIFEST_ACCEPT) => {
          const res = await fetch(`http://${source.address}/v2/${source.repository}/${path}`, {
            headers: { Accept: accept, ...headers },
          });
          if (!res.ok) throw new Error(`GET ${path} from ${source.address} answered ${res.status}`);
          return {
            body: Buffer.from(await res.arrayBuffer()),
            type: res.headers.get("content-type") ?? "",
          };
        };
        const copyManifest = async (digest: string, ref: string): Promise<void> => {
          const { body, type } = await get(`manifests/${digest}`);
          const doc = JSON.parse(body.toString()) as {
            manifests?: { digest: string }[];
            config?: { digest: string };
            layers?: { digest: string }[];
          };
          for (const child of doc.manifests ?? []) await copyManifest(child.digest, child.digest);
          for (const { digest: d } of [...(doc.config ? [doc.config] : []), ...(doc.layers ?? [])])
            await images.blob(repo, (await get(`blobs/${d}`, "*/*")).body);
          await images.put(repo, ref, type, body);
        };
        await copyManifest(source.digest, source.digest);
        const { body, type } = await get(`manifests/${source.digest}`);
        await images.put(repo, tag, type, body);
      },
      token: (permissions) =>
        new SignJWT({ auth_method: "github-oidc", auth_method_sub: "mcp-pipeline", permissions })
          .setProtectedHeader({ alg: "EdDSA" })
          .setIssuer("mcp-registry")
          .setIssuedAt()
          .setNotBefore("0s")
          .setExpirationTime("5m")
          .sign(key),
      log: () => registry.output.join(""),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
