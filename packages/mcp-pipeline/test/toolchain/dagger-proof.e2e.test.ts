import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { imageConfig, manifestDigest } from "../../src/host/registry-api.js";
import { readRegistryAuth } from "../../src/toolchain/state.js";
import { PACKAGE_ROOT } from "../paths.js";
import { env, paths, repoRoot } from "./helpers.js";

describe("Dagger on the toolchain", () => {
  it("pulls through the mirror, builds two stages, serves, publishes with auth, and the registry agrees on the digest", async () => {
    const auth = readRegistryAuth(paths);
    expect(auth, "registry-auth.json written by setup").toBeDefined();
    if (!auth) return;
    const tag = `proof-${randomBytes(4).toString("hex")}`;
    const res = await execa(
      join(paths.bin, "dagger"),
      [
        "run",
        "--progress=plain",
        join(repoRoot, "node_modules", ".bin", "tsx"),
        join(PACKAGE_ROOT, "test", "toolchain", "fixtures", "dagger-proof.ts"),
        tag,
      ],
      { cwd: repoRoot, env, reject: false, all: true },
    );
    expect(res.exitCode, res.all?.split("\n").slice(-40).join("\n")).toBe(0);
    const line = res.stdout.trim().split("\n").pop() ?? "";
    const proof = JSON.parse(line) as {
      nodeVersion: string;
      answer: { ok: boolean; builtWith: string; uid: number };
      ref: string;
    };

    expect(proof.nodeVersion).toMatch(/^v24\./);
    // The service answered another container, from the image the two-stage build produced.
    expect(proof.answer).toEqual({ ok: true, builtWith: proof.nodeVersion, uid: 1000 });

    const [, digest] = proof.ref.split("@");
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const fromRegistry = await manifestDigest(auth.address, "toolchain-proof/hello", tag, auth);
    expect(fromRegistry).toBe(digest);
    // The registry really demands the credentials.
    expect(await manifestDigest(auth.address, "toolchain-proof/hello", tag)).toBeUndefined();
    // The secret never reached the output.
    expect(res.all).not.toContain(auth.password);
    // The published config is the Dockerfile's final stage, HEALTHCHECK included (Dagger 0.20
    // keeps Docker's whole image config; 0.19 dropped the HEALTHCHECK).
    const config = await imageConfig(auth.address, "toolchain-proof/hello", tag, auth);
    expect(config.config?.User).toBe("node");
    expect(config.config?.ExposedPorts).toHaveProperty("8080/tcp");
    expect(config.config?.Healthcheck).toMatchObject({
      Interval: 2_000_000_000,
      Timeout: 2_000_000_000,
      StartPeriod: 2_000_000_000,
      Retries: 3,
    });
  });
});
