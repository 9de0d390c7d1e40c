import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { PACKAGE_ROOT } from "../paths.js";

const sha256 = (data: Buffer | string) =>
  `sha256:${createHash("sha256").update(data).digest("hex")}`;

async function pushBlob(registry: string, name: string, data: Buffer | string): Promise<string> {
  const digest = sha256(data);
  const head = await fetch(`http://${registry}/v2/${name}/blobs/${digest}`, { method: "HEAD" });
  if (head.ok) return digest;
  const start = await fetch(`http://${registry}/v2/${name}/blobs/uploads/`, { method: "POST" });
  const location = start.headers.get("location");
  if (start.status !== 202 || !location)
    throw new Error(`${registry}: blob upload refused (${start.status})`);
  const url = new URL(location, `http://${registry}`);
  url.searchParams.set("digest", digest);
  const put = await fetch(url, {
    method: "PUT",
    headers: { "content-type": "application/octet-stream" },
    body: data,
  });
  if (put.status !== 201) throw new Error(`${registry}: blob upload failed (${put.status})`);
  return digest;
}

/**
 * Stands in for `ghcr.io/aquasecurity/trivy-db:2`, which a hosted runner's Trivy downloads on its
 * first scan: the tiny test database (test/ci/fixtures/trivy-db, two made-up npm advisories) as
 * an OCI artifact with Trivy's media types in a plain-HTTP registry on loopback. Returns the
 * reference for `TRIVY_DB_REPOSITORY`.
 */
export async function publishTestTrivyDb(
  registry: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const name = "aquasecurity/trivy-db";
  const dir = mkdtempSync(join(tmpdir(), "gh-sim-trivy-db-"));
  try {
    await execa("go", ["run", ".", join(dir, "db")], {
      cwd: join(PACKAGE_ROOT, "test", "ci", "fixtures", "trivy-db"),
      env: { ...env, GOFLAGS: "-mod=mod" },
    });
    const archive = join(dir, "db.tar.gz");
    // The generator takes a Trivy cache directory and writes <cache>/db/{trivy.db,metadata.json}.
    await execa("tar", ["-czf", archive, "-C", join(dir, "db", "db"), "trivy.db", "metadata.json"]);
    const layer = readFileSync(archive);
    const config = "{}";
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      artifactType: "application/vnd.aquasec.trivy.config.v1+json",
      config: {
        mediaType: "application/vnd.aquasec.trivy.config.v1+json",
        digest: await pushBlob(registry, name, config),
        size: config.length,
      },
      layers: [
        {
          mediaType: "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip",
          digest: await pushBlob(registry, name, layer),
          size: layer.length,
          annotations: { "org.opencontainers.image.title": "db.tar.gz" },
        },
      ],
    });
    const put = await fetch(`http://${registry}/v2/${name}/manifests/2`, {
      method: "PUT",
      headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
      body: manifest,
    });
    if (put.status !== 201) throw new Error(`${registry}: manifest refused (${put.status})`);
    return `${registry}/${name}:2`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
