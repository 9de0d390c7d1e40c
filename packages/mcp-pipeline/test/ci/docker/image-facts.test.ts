import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { compressedSize, parseHistory, readOciImage } from "../../../src/ci/docker/image-facts.js";

describe("parseHistory", () => {
  // `docker history --no-trunc --human=false --format '{{json .}}'` of a pipeline image on
  // Docker 28.5.2's containerd store (CreatedSince and Comment trimmed).
  const output = [
    '{"CreatedBy":"[runtime 3/3] WORKDIR /app","ID":"sha256:5f774ed74501","Size":"4096"}',
    '{"CreatedBy":"[runtime 2/3] COPY --from=build /rootfs/ /","ID":"\\u003cmissing\\u003e","Size":"1863680"}',
    '{"CreatedBy":"[runtime 1/3] COPY --from=node /rootfs/ /","ID":"\\u003cmissing\\u003e","Size":"132038656"}',
    '{"CreatedBy":"ENV NODE_ENV=production","ID":"\\u003cmissing\\u003e","Size":"0"}',
    "",
  ].join("\n");

  it("reads every entry's exact size in bytes, empty ones included", () => {
    const entries = parseHistory(output);
    expect(entries.map((e) => e.sizeBytes)).toEqual([4096, 1_863_680, 132_038_656, 0]);
    expect(entries[1]).toEqual({
      digest: "<missing>",
      sizeBytes: 1_863_680,
      createdBy: "[runtime 2/3] COPY --from=build /rootfs/ /",
    });
  });

  it("refuses a human-readable size instead of guessing its bytes", () => {
    expect(() => parseHistory('{"CreatedBy":"x","ID":"y","Size":"132MB"}')).toThrow(
      /not a byte count: 132MB/,
    );
  });
});

describe("compressedSize", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * An OCI image layout tarball whose index.json is what `build` returns. Blobs are JSON
   * documents stored under their sha256, as Dagger's export writes them.
   */
  async function ociTarball(build: (blob: (doc: object) => string) => object): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), "oci-layout-"));
    dirs.push(dir);
    const root = join(dir, "layout");
    mkdirSync(join(root, "blobs", "sha256"), { recursive: true });
    const blob = (doc: object): string => {
      const text = JSON.stringify(doc);
      const hex = createHash("sha256").update(text).digest("hex");
      writeFileSync(join(root, "blobs", "sha256", hex), text);
      return `sha256:${hex}`;
    };
    writeFileSync(join(root, "index.json"), JSON.stringify(build(blob)));
    const tarball = join(dir, "image.tar");
    await execa("tar", ["-cf", tarball, "-C", root, "index.json", "blobs"]);
    return tarball;
  }

  const layer = (digest: string, size: number) => ({
    mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
    digest,
    size,
  });

  it("reads the config digest in one pass, passing over a layer too big to be a document", async () => {
    const tarball = await ociTarball((blob) => {
      // A 5 MB layer blob: skipped, not parsed.
      const big = join(dirs.at(-1) ?? "", "layout", "blobs", "sha256", "f".repeat(64));
      writeFileSync(big, Buffer.alloc(5 * 1024 * 1024, 1));
      const manifest = blob({
        schemaVersion: 2,
        config: { digest: "sha256:c0", size: 100 },
        layers: [layer(`sha256:${"f".repeat(64)}`, 5 * 1024 * 1024)],
      });
      return { schemaVersion: 2, manifests: [{ digest: manifest, size: 1 }] };
    });
    expect(await readOciImage(tarball)).toEqual({
      configDigest: "sha256:c0",
      topDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      layers: [layer(`sha256:${"f".repeat(64)}`, 5 * 1024 * 1024)],
    });
  });

  it("sums the layer blobs of the manifest, following an index to its first manifest", async () => {
    const tarball = await ociTarball((blob) => {
      const manifest = blob({
        schemaVersion: 2,
        config: { digest: "sha256:c0", size: 100 },
        layers: [layer("sha256:a1", 30_000_000), layer("sha256:a2", 1_234_567)],
      });
      const nested = blob({ schemaVersion: 2, manifests: [{ digest: manifest, size: 1 }] });
      return { schemaVersion: 2, manifests: [{ digest: nested, size: 1 }] };
    });
    expect(await compressedSize(tarball)).toBe(31_234_567);
  });

  it("throws for an image without layers instead of measuring 0 bytes, which any budget would pass", async () => {
    const tarball = await ociTarball((blob) => {
      const manifest = blob({ schemaVersion: 2, config: { digest: "sha256:c0" }, layers: [] });
      return { schemaVersion: 2, manifests: [{ digest: manifest, size: 1 }] };
    });
    await expect(compressedSize(tarball)).rejects.toThrow(/has an image without layers/);
  });

  it("throws for a tarball whose index lists no image", async () => {
    const tarball = await ociTarball(() => ({ schemaVersion: 2, manifests: [] }));
    await expect(compressedSize(tarball)).rejects.toThrow(/has an empty index/);
  });
});
