import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import tar from "tar-stream";

const sha256 = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

async function tarOf(entries: { name: string; body: Buffer }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    pack.on("end", resolve);
    pack.on("error", reject);
  });
  for (const e of entries) pack.entry({ name: e.name, size: e.body.length, mode: 0o644 }, e.body);
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface OciTarball {
  /** Digest of the image index (what index.json points at). */
  indexDigest: string;
  /** Per platform: its manifest's and its config's digests. */
  platforms: { platform: string; manifest: string; config: string }[];
}

/**
 * Writes an OCI image layout tarball (the layout `docker save` writes since Docker 25: oci-layout, index.json,
 * blobs/, and Docker's manifest.json for the first platform) holding one image index of `platforms`, each a one-layer image
 * of `layer` (an uncompressed tar) with `cmd`, named `name` by the index annotations.
 */
export async function writeOciTarball(
  file: string,
  opts: {
    /** `docker.io/sandbox/multi:1`; none leaves the image unnamed. */
    name?: string;
    layer: Buffer;
    platforms: readonly string[];
    cmd: readonly string[];
  },
): Promise<OciTarball> {
  const blobs = new Map<string, Buffer>();
  const blob = (body: Buffer) => {
    const digest = sha256(body);
    blobs.set(digest, body);
    return { digest, size: body.length };
  };
  const layer = blob(opts.layer);
  const platforms: OciTarball["platforms"] = [];
  const manifests = opts.platforms.map((platform) => {
    const [os = "linux", architecture = "amd64"] = platform.split("/");
    const config = blob(
      Buffer.from(
        JSON.stringify({
          architecture,
          os,
          config: { Cmd: opts.cmd },
          rootfs: { type: "layers", diff_ids: [layer.digest] },
        }),
      ),
    );
    const manifest = blob(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
          layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", ...layer }],
        }),
      ),
    );
    platforms.push({ platform, manifest: manifest.digest, config: config.digest });
    return {
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      ...manifest,
      platform: { os, architecture },
    };
  });
  const imageIndex = blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests,
      }),
    ),
  );
  const tag = opts.name?.split(":").at(-1) ?? "latest";
  const layoutIndex = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [
      {
        mediaType: "application/vnd.oci.image.index.v1+json",
        ...imageIndex,
        ...(opts.name
          ? {
              annotations: {
                "io.containerd.image.name": opts.name,
                "org.opencontainers.image.ref.name": tag,
              },
            }
          : {}),
      },
    ],
  };
  // What `docker save` (25+) adds for the classic store, which cannot read an index: the first
  // platform's image in Docker's own format.
  const first = platforms[0];
  const dockerManifest = first
    ? [
        {
          Config: `blobs/sha256/${first.config.slice(7)}`,
          RepoTags: opts.name ? [opts.name.replace(/^docker\.io\//, "")] : null,
          Layers: [`blobs/sha256/${layer.digest.slice(7)}`],
        },
      ]
    : [];
  const entries = [
    { name: "oci-layout", body: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
    { name: "index.json", body: Buffer.from(JSON.stringify(layoutIndex)) },
    { name: "manifest.json", body: Buffer.from(JSON.stringify(dockerManifest)) },
    ...[...blobs].map(([digest, body]) => ({ name: `blobs/sha256/${digest.slice(7)}`, body })),
  ];
  writeFileSync(file, await tarOf(entries));
  return { indexDigest: imageIndex.digest, platforms };
}
