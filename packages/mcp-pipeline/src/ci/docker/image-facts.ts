import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { extract } from "tar-stream";
import type { LayerSize } from "../checks/size.js";
import { docker, inspectImage } from "./docker.js";

/** What the report and the size gate know about the built image, measured once. */
export interface ImageFacts {
  /**
   * Docker's image id: the image config's digest on the classic store, the manifest's digest on
   * the containerd store; either is the same for the same image anywhere.
   */
  id: string;
  /**
   * Uncompressed size: the sum of the layers `docker history` lists. Not `docker image inspect`'s
   * `.Size`, which the containerd store reports as the compressed content (48.6 MB for an image
   * whose layers unpack to 133.9 MB, on Docker 28.5.2).
   */
  sizeBytes: number;
  /** Sum of the compressed layer blobs: what a registry stores and a pull downloads. */
  compressedBytes: number;
  /** Layers with content, with the instruction that made each. */
  layers: LayerSize[];
}

interface OciDescriptor {
  digest: string;
  size: number;
}

/** Documents this small are read whole; anything larger in the tarball is a layer. */
const DOCUMENT_BYTES = 4 * 1024 * 1024;

/** An OCI image tarball's index, image manifest and config digest, read in one pass. */
export interface OciImage {
  /** The image config's digest: Docker's image id once loaded into the classic image store. */
  configDigest: string;
  /**
   * The digest `index.json` names first (a manifest, or an image index): Docker's image id once
   * loaded into the containerd image store.
   */
  topDigest: string;
  layers: OciDescriptor[];
}

/**
 * Reads the documents of an OCI image tarball (`index.json`, the manifest,
 * following one nested index) in a single pass over the file, skipping the
 * layer blobs.
 */
export async function readOciImage(tarball: string): Promise<OciImage> {
  const documents = new Map<string, Buffer>();
  const reader = extract();
  reader.on("entry", (header, stream, next) => {
    if (header.type !== "file" || (header.size ?? 0) > DOCUMENT_BYTES) {
      stream.on("end", next).resume();
      return;
    }
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: unknown) => chunks.push(chunk as Buffer));
    stream.on("end", () => {
      documents.set(header.name.replace(/^\.\//, ""), Buffer.concat(chunks));
      next();
    });
  });
  await pipeline(createReadStream(tarball), reader);
  const read = <T>(name: string): T => {
    const found = documents.get(name);
    if (!found) throw new Error(`${tarball} has no ${name}`);
    return JSON.parse(found.toString("utf8")) as T;
  };
  const blob = (d: OciDescriptor) => `blobs/${d.digest.replace(":", "/")}`;
  const first = read<{ manifests: OciDescriptor[] }>("index.json").manifests[0];
  if (!first) throw new Error(`${tarball} has an empty index`);
  let manifest = read<{
    layers?: OciDescriptor[];
    manifests?: OciDescriptor[];
    config?: OciDescriptor;
  }>(blob(first));
  if (manifest.manifests?.[0]) manifest = read(blob(manifest.manifests[0]));
  const layers = manifest.layers ?? [];
  if (layers.length === 0) throw new Error(`${tarball} has an image without layers`);
  if (!manifest.config) throw new Error(`${tarball} has an image without a config`);
  return { configDigest: manifest.config.digest, topDigest: first.digest, layers };
}

/** Sum of the layer blobs in an OCI image tarball: what a registry stores and a pull downloads. */
export async function compressedSize(tarball: string): Promise<number> {
  return (await readOciImage(tarball)).layers.reduce((sum, l) => sum + l.size, 0);
}

/**
 * Every entry of `docker history --human=false --format '{{json .}}'` output with its exact size
 * in bytes and the instruction that made it, empty ones included.
 */
export function parseHistory(output: string): LayerSize[] {
  return output
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { ID: string; Size: string; CreatedBy: string })
    .map((row) => {
      const sizeBytes = Number(row.Size);
      if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0)
        throw new Error(`docker history gave a size that is not a byte count: ${row.Size}`);
      return { digest: row.ID, sizeBytes, createdBy: row.CreatedBy };
    });
}

/** The image's history entries, sizes in bytes, as both image stores report unpacked layers. */
async function history(image: string): Promise<LayerSize[]> {
  return parseHistory(
    await docker(["history", "--no-trunc", "--human=false", "--format", "{{json .}}", image]),
  );
}

/** Measures the image loaded in Docker as `image`, exported as `tarball`. */
export async function measureImage(image: string, tarball: string): Promise<ImageFacts> {
  const [info, compressedBytes, entries] = await Promise.all([
    inspectImage(image),
    compressedSize(tarball),
    history(image),
  ]);
  return {
    id: info.Id,
    sizeBytes: entries.reduce((sum, l) => sum + l.sizeBytes, 0),
    compressedBytes,
    layers: entries.filter((l) => l.sizeBytes > 0),
  };
}
