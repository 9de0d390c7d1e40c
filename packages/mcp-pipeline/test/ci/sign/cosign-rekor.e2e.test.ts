import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CosignError } from "../../../src/ci/errors.js";
import { signImage } from "../../../src/ci/sign/cosign-sign.js";
import { verifyImage } from "../../../src/ci/sign/cosign-verify.js";
import { logCall, transparencyLog } from "../../../src/ci/stages/sign.js";
import { basicAuth } from "../../../src/host/registry-api.js";
import { toolchainEnv } from "../../../src/toolchain/env.js";
import { toolchainPaths } from "../../../src/toolchain/settings.js";
import { type RekorStandIn, startRekor } from "../../github/rekor.js";
import {
  deleteRepository,
  env,
  freshRepository,
  generateKeyPair,
  localRegistry,
  pushImage,
  removeLocalImages,
  scratchDir,
} from "./sign-harness.js";

// Real cosign signing into a real private transparency log: the GitHub simulation's stand-in for
// rekor.sigstore.dev (Rekor v1 on Trillian on PostgreSQL, test/github/rekor.ts), started here on
// loopback. Needs root (the database runs as the postgres user; a hosted runner's non-root user
// skips it, saying so) and builds the pinned Rekor and Trillian binaries on first use.
const AS_ROOT = process.getuid?.() === 0;

const PASSWORD = "rekor-e2e-password-3c4d5e6f";
const scratch = scratchDir("sign-rekor-e2e");
const repository = freshRepository("sign-rekor-e2e");
let rekor: RekorStandIn;
let keys: Awaited<ReturnType<typeof generateKeyPair>>;
let other: Awaited<ReturnType<typeof generateKeyPair>>;
let image: Awaited<ReturnType<typeof pushImage>>;

beforeAll(async () => {
  if (!AS_ROOT) return;
  const paths = toolchainPaths();
  rekor = await startRekor(join(scratch.dir, "rekor"), paths, toolchainEnv(paths));
  keys = await generateKeyPair(join(scratch.dir, "ours"), PASSWORD);
  other = await generateKeyPair(join(scratch.dir, "other"), PASSWORD);
  image = await pushImage(repository, "v1", "signed into a private log");
}, 1_200_000);

afterAll(async () => {
  if (!AS_ROOT) return scratch.remove();
  await rekor?.stop();
  if (image) await removeLocalImages([image.localRef]);
  await deleteRepository(repository);
  scratch.remove();
});

describe.skipIf(!AS_ROOT)("a private transparency log (needs root)", () => {
  it("takes the signature's entry, and verification checks it against the log's key", async () => {
    const log = transparencyLog({ url: rekor.url, publicKey: rekor.publicKeyFile }, true);
    const call = logCall(log, env);
    const signed = await signImage({
      ref: image.ref,
      mode: { kind: "key", keyFile: keys.keyFile, password: PASSWORD },
      registry: localRegistry(),
      tlogUpload: true,
      ...call,
      ...(call.sigstore ? { sigstore: call.sigstore } : {}),
    });
    expect(signed.command).toContain(`--rekor-url=${rekor.url}`);
    expect(signed.tlog?.logIndex).toEqual(expect.any(Number));
    const entry = await fetch(`${rekor.url}/api/v1/log/entries?logIndex=${signed.tlog?.logIndex}`);
    expect(entry.status).toBe(200);

    const verified = await verifyImage({
      ref: image.ref,
      expected: { kind: "key", publicKey: keys.publicKeyFile },
      registry: localRegistry(),
      requireTlog: true,
      ...call,
      ...(call.sigstore ? { sigstore: call.sigstore } : {}),
    });
    expect(verified).toMatchObject({ verified: true, tlog: "checked" });
    if (verified.verified)
      expect(verified.signatures[0]?.tlog?.logIndex).toBe(signed.tlog?.logIndex);

    // The command the report prints, run as printed where a user keeps the log's key as the
    // release attaches it (rekor.pub), verifies too.
    expect(verified.userCommand).toMatch(
      /^SIGSTORE_REKOR_PUBLIC_KEY=rekor\.pub cosign verify --key \S+ .*--rekor-url=http/,
    );
    const user = join(scratch.dir, "user");
    mkdirSync(user, { recursive: true });
    copyFileSync(rekor.publicKeyFile, join(user, "rekor.pub"));
    // A user logs in to a private registry first (`docker login`); cosign reads that config.
    const registry = localRegistry();
    const login = basicAuth(registry).slice("Basic ".length);
    writeFileSync(
      join(user, "config.json"),
      JSON.stringify({ auths: { [registry.address]: { auth: login } } }),
    );
    const byHand = await execa("bash", ["-c", verified.userCommand], {
      cwd: user,
      env: { ...env, DOCKER_CONFIG: user },
      reject: false,
    });
    expect(byHand.exitCode, byHand.stderr).toBe(0);
  });

  it("refuses the entry when the log's key is not the one that signed it", async () => {
    // Another key in SIGSTORE_REKOR_PUBLIC_KEY: the entry's signed timestamp no longer checks out.
    const call = logCall(
      transparencyLog({ url: rekor.url, publicKey: other.publicKeyFile }, true),
      env,
    );
    const outcome = await verifyImage({
      ref: image.ref,
      expected: { kind: "key", publicKey: keys.publicKeyFile },
      registry: localRegistry(),
      requireTlog: true,
      ...call,
      ...(call.sigstore ? { sigstore: call.sigstore } : {}),
    }).catch((error: unknown) => error);
    if (outcome instanceof Error) expect(outcome).toBeInstanceOf(CosignError);
    else expect(outcome).toMatchObject({ verified: false });
  });
});
