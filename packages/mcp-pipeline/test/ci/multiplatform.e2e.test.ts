import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { dockerEngine } from "../../src/ci/replay/key.js";
import { manifestKind } from "../../src/host/registry-api.js";
import { env, viaLoopback } from "../toolchain/helpers.js";
import { auth, registryTags, runPipeline, skipAllBut } from "./pipeline-harness.js";

// The pipeline under the default `image.platforms` (linux/amd64 + linux/arm64) and under a
// single platform, published to the local authenticated registry, then read back from it
// with the registry API and pulled by Docker as an arm64 user would.

const images: string[] = [];
const dockerConfig = mkdtempSync(join(tmpdir(), "multiplatform-docker-"));
afterAll(async () => {
  for (const image of images) await docker(["image", "rm", "-f", image]).catch(() => undefined);
  rmSync(dockerConfig, { recursive: true, force: true });
});

/** The Docker CLI with a configuration of its own, so the login never reaches ~/.docker. */
function docker(args: string[], input?: string) {
  return execa("docker", args, {
    env: { ...env, DOCKER_CONFIG: dockerConfig },
    ...(input === undefined ? {} : { input }),
  });
}

function repoPath(repository: string): string {
  if (!auth)
    throw new Error("the local registry's credentials are missing: run `mcp-pipeline setup`");
  return repository.slice(auth.address.length + 1);
}

/** A local image name of this run's own, so no concurrent run can retag it under us. */
function imageName(): string {
  const name = `multiplatform-e2e-${randomBytes(3).toString("hex")}`;
  // The pipeline tags the checked image of each other platform with its platform as well.
  images.push(`${name}:pipeline`, `${name}:pipeline-linux-arm64`);
  return name;
}

describe("multi-platform images", () => {
  it("publishes one index of exactly linux/amd64 and linux/arm64 under every tag; the amd64 entry is the image the checks ran", async () => {
    if (!auth) throw new Error("run `mcp-pipeline setup` first");
    const name = imageName();
    const run = await runPipeline(["--image", name, "--tag", "multi-extra", ...skipAllBut()]);
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    const digest = run.report.image.digest;
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(run.report.published.length).toBeGreaterThanOrEqual(3);

    const path = repoPath(run.repository);
    const tags = run.report.published.map((ref) => ref.split("@")[0]?.split(":").at(-1) ?? "");
    let amd64 = "";
    for (const tag of tags) {
      const found = await manifestKind(auth.address, path, tag, auth);
      if (found.kind !== "index") throw new Error(`${tag} is a ${found.kind}, not an index`);
      expect(found.digest, tag).toBe(digest);
      expect(found.mediaType).toBe("application/vnd.oci.image.index.v1+json");
      expect(found.entries.map((e) => e.platform).sort()).toEqual(["linux/amd64", "linux/arm64"]);
      amd64 = found.entries.find((e) => e.platform === "linux/amd64")?.digest ?? "";
    }
    const manifest = await fetch(`http://${auth.address}/v2/${path}/manifests/${amd64}`, {
      headers: {
        Accept: "application/vnd.oci.image.manifest.v1+json",
        Authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`,
      },
    }).then((r) => r.json() as Promise<{ config: { digest: string } }>);
    // Docker's id of the image the checks ran: its config's digest on the classic store, its
    // manifest's digest on the containerd store.
    const checked = await docker(["image", "inspect", "--format", "{{.Id}}", `${name}:pipeline`]);
    const { store } = await dockerEngine();
    expect(checked.stdout.trim()).toBe(store === "containerd" ? amd64 : manifest.config.digest);
  });

  it("gives an arm64 user, pulling with --platform linux/arm64, an image whose node reports arm64 under emulation", async () => {
    if (!auth) throw new Error("run `mcp-pipeline setup` first");
    const run = await runPipeline(["--image", imageName(), ...skipAllBut()]);
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    // Pulled as a user pulls a local registry's image: on loopback (viaLoopback).
    const ref = viaLoopback(run.report.published[0]?.split("@")[0] ?? "");
    images.push(ref);

    await docker(
      ["login", viaLoopback(auth.address), "-u", auth.username, "--password-stdin"],
      auth.password,
    );
    await docker(["pull", "--quiet", "--platform", "linux/arm64", ref]);
    // The containerd store keeps the index under the name, and `image inspect` describes the
    // machine's platform where its content is there too (the amd64 image this run built).
    const { store } = await dockerEngine();
    const platform = store === "containerd" ? ["--platform", "linux/arm64"] : [];
    const arch = await docker([
      "image",
      "inspect",
      ...platform,
      "--format",
      "{{.Os}}/{{.Architecture}}",
      ref,
    ]);
    expect(arch.stdout.trim()).toBe("linux/arm64");
    // The image's entrypoint is node; `-p` makes it print the expression.
    const node = await docker([
      "run",
      "--rm",
      "--platform",
      "linux/arm64",
      ref,
      "-p",
      "process.arch",
    ]);
    expect(node.stdout.trim()).toBe("arm64");
  });

  it("publishes a single configured platform as a plain manifest, not an index", async () => {
    if (!auth) throw new Error("run `mcp-pipeline setup` first");
    const run = await runPipeline(["--image", imageName(), ...skipAllBut()], {
      PIPELINE_PLATFORMS: "linux/amd64",
    });
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    const tag = run.report.published[0]?.split("@")[0]?.split(":").at(-1) ?? "";
    const found = await manifestKind(auth.address, repoPath(run.repository), tag, auth);
    expect(found.kind).toBe("manifest");
    if (found.kind !== "manifest") return;
    expect(found.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(found.digest).toBe(run.report.image.digest);
  });

  it("fails the build, naming the platform, when a configured platform cannot be built, and publishes nothing", async () => {
    const run = await runPipeline(["--image", imageName(), ...skipAllBut()], {
      // The mirror's base images exist for linux/amd64 and linux/arm64 only.
      PIPELINE_PLATFORMS: "linux/amd64,linux/s390x",
    });
    expect(run.exitCode, run.output.slice(-3000)).toBe(1);
    expect(run.report.error?.kind).toBe("build");
    expect(run.report.error?.message).toMatch(/^the image did not build for linux\/s390x: /);
    expect(run.report.published).toEqual([]);
    expect(await registryTags(run.repository)).toEqual([]);
  });

  it("checks every platform's image, lists each platform's size and digest, and names the platform over budget", async () => {
    // 131 MB lies between the two images: arm64 is 129.5 MB, amd64 133.7 MB.
    const over = await runPipeline([
      "--image",
      imageName(),
      "--size-budget",
      "131",
      ...skipAllBut("size-budget", "non-root"),
    ]);
    expect(over.exitCode, over.output.slice(-3000)).toBe(1);
    const size = over.report.checks.find((c) => c.id === "size-budget");
    expect(size?.status).toBe("failed");
    expect(size?.summary).toMatch(/^linux\/amd64: .* over the 131 MB budget/);
    expect(size?.summary).not.toMatch(/linux\/arm64/);
    expect(size?.details.join("\n")).toMatch(/\[linux\/arm64\] passed/);
    expect(over.report.published).toEqual([]);

    // The control: the same run within budget publishes, with each platform's digest.
    const run = await runPipeline([
      "--image",
      imageName(),
      ...skipAllBut("size-budget", "non-root"),
    ]);
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    const platforms = run.report.image.platforms ?? [];
    expect(platforms.map((p) => p.platform).sort()).toEqual(["linux/amd64", "linux/arm64"]);
    for (const p of platforms) {
      expect(p.digest, p.platform).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(p.digest).not.toBe(run.report.image.digest);
      expect(p.sizeBytes).toBeGreaterThan(100_000_000);
    }
    expect(run.report.checks.find((c) => c.id === "non-root")?.summary).toMatch(
      /linux\/amd64: runs as UID 1000.*linux\/arm64: runs as UID 1000/,
    );
  });

  it("proves the arm64 image turns healthy under emulation, beside the native one", async () => {
    const run = await runPipeline([
      "--image",
      imageName(),
      "--no-publish",
      ...skipAllBut("healthcheck"),
    ]);
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    const health = run.report.checks.find((c) => c.id === "healthcheck");
    expect(health?.details.join("\n")).toMatch(/\[linux\/amd64\] passed: healthy/);
    expect(health?.details.join("\n")).toMatch(/\[linux\/arm64\] passed: healthy/);
    expect(health?.details.join("\n")).toMatch(/under emulation: each probe may take/);
  });
});
