import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { signingPlan } from "../../../src/ci/stages/sign.js";

describe("signingPlan", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("puts setup's public key beside a report whose directory does not exist yet", async () => {
    const dir = mkdtempSync(join(tmpdir(), "signing-plan-"));
    dirs.push(dir);
    const publicKey = join(dir, "cosign.pub");
    writeFileSync(publicKey, "-----BEGIN PUBLIC KEY-----\ntest\n-----END PUBLIC KEY-----\n");
    const reportDir = join(dir, "report", "nested");
    const plan = await signingPlan({
      enabled: true,
      signing: {
        githubOidc: false,
        key: undefined,
        localKey: { file: join(dir, "cosign.key"), publicKey, password: "pw" },
        github: {},
        cosignEnv: {},
        rekorPublicKey: undefined,
      },
      localTarget: true,
      offline: true,
      reportDir,
    });
    expect(plan).toMatchObject({ expected: { kind: "key", publicKey } });
    expect(readFileSync(join(reportDir, "cosign.pub"), "utf8")).toBe(
      readFileSync(publicKey, "utf8"),
    );
  });

  const localKeyPlan = (over: { localTarget: boolean; offline: boolean; enabled?: boolean }) => {
    const dir = mkdtempSync(join(tmpdir(), "signing-plan-"));
    dirs.push(dir);
    const publicKey = join(dir, "cosign.pub");
    writeFileSync(publicKey, "-----BEGIN PUBLIC KEY-----\ntest\n-----END PUBLIC KEY-----\n");
    return signingPlan({
      enabled: over.enabled ?? true,
      signing: {
        githubOidc: false,
        key: undefined,
        localKey: { file: join(dir, "cosign.key"), publicKey, password: "pw" },
        github: {},
        cosignEnv: {},
        rekorPublicKey: undefined,
      },
      localTarget: over.localTarget,
      offline: over.offline,
      reportDir: join(dir, "report"),
    });
  };

  it("never signs an image in another registry with setup's local key pair", async () => {
    expect(await localKeyPlan({ localTarget: false, offline: true })).toEqual({
      skip: "no signing key: set COSIGN_KEY and COSIGN_PASSWORD, or run on GitHub Actions with `id-token: write`, or set sign.enabled: false",
    });
  });

  it("writes to the transparency log only when online", async () => {
    expect(await localKeyPlan({ localTarget: true, offline: true })).toMatchObject({ tlog: false });
    expect(await localKeyPlan({ localTarget: true, offline: false })).toMatchObject({ tlog: true });
  });

  it("skips when signing is off, whatever keys there are", async () => {
    expect(await localKeyPlan({ localTarget: true, offline: true, enabled: false })).toEqual({
      skip: "signing is off (sign.enabled: false or --no-sign)",
    });
  });
});
