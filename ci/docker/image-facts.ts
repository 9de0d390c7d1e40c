import { execa } from "execa";
import type { LayerSize } from "../checks/size.js";
import { docker, inspectImage } from "./docker.js";

/** What the report and the size gate know about the built image, measured once. */
export interface ImageFacts {
  /** Docker's image id: the digest of the image config, the same for the same image anywhere. */
  id: string;
  /** Uncompressed size, as `docker image inspect` reports it. */
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

async function readFromTar(tarball: string, member: string): Promise<string> {
  const res = await execa("tar", ["-xOf", tarball, member]);
  return String(res.stdout);
}

/** Sum of the layer blobs in an OCI image tarball; follows an index to its first manifest. */
export async function compressedSize(tarball: string): Promise<number> {
  const index = JSON.parse(await readFromTar(tarball, "index.json")) as {
    manifests: OciDescriptor[];
  };
  const first = index.manifests[0];
  if (!first) throw new Error(`${tarball} has an empty index`);
  const blob = (d: OciDescriptor) => `blobs/${d.digest.replace(":", "/")}`;
  let manifest = JSON.parse(await readFromTar(tarball, blob(first))) as {
    layers?: OciDescriptor[];
    manifests?: OciDescriptor[];
  };
  if (manifest.manifests?.[0])
    manifest = JSON.parse(await readFromTar(tarball, blob(manifest.manifests[0])));
  const layers = manifest.layers ?? [];
  if (layers.length === 0) throw new Error(`${tarball} has an image without layers`);
  return layers.reduce((sum, l) => sum + l.size, 0);
}

/** Per-layer sizes as Docker reports them, with the instruction that made each. */
export async function layerSizes(image: string): Promise<LayerSize[]> {
  const out = await docker(["history", "--no-trunc", "--format", "{{json .}}", image]);
  return out
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { ID: string; Size: string; CreatedBy: string })
    .map((row) => ({
      digest: row.ID,
      sizeBytes: parseDockerSize(row.Size),
      createdBy: row.CreatedBy,
    }))
    .filter((l) => l.sizeBytes > 0);
}

/** `docker history` sizes are decimal with units: `132MB`, `1.73MB`, `0B`, `4.1kB`. */
export function parseDockerSize(text: string): number {
  const m = /^([\d.]+)\s*(B|kB|KB|MB|GB|TB)$/.exec(text.trim());
  if (!m?.[1] || !m[2]) return 0;
  const unit = { B: 1, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 }[m[2] as "B"];
  return Math.round(Number(m[1]) * unit);
}

/** Measures the image loaded in Docker as `image`, exported as `tarball`. */
export async function measureImage(image: string, tarball: string): Promise<ImageFacts> {
  const [info, compressedBytes, layers] = await Promise.all([
    inspectImage(image),
    compressedSize(tarball),
    layerSizes(image),
  ]);
  return { id: info.Id, sizeBytes: info.Size, compressedBytes, layers };
}
