import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { ToolchainError } from "../../src/host/errors.js";
import type { StepContext } from "../../src/toolchain/context.js";
import { loadSettings, toolchainPaths } from "../../src/toolchain/settings.js";
import { readCosignCredentials } from "../../src/toolchain/state.js";
import { cosignKeyPair } from "../../src/toolchain/steps/cosign-key.js";
import { env } from "./helpers.js";

// The step runs against a private cache directory (MCP_PIPELINE_CACHE), never the real state,
// with the real cosign found on the toolchain's PATH.
const root = mkdtempSync(join(tmpdir(), "cosign-key-step-"));
const paths = toolchainPaths({ MCP_PIPELINE_CACHE: root });
const ctx: StepContext = {
  mode: "airgap",
  paths,
  settings: loadSettings({}),
  needs: { authRegistry: false },
  env,
  logFile: join(paths.logs, "cosign-key.log"),
  note: () => undefined,
  warn: () => undefined,
};

afterAll(() => rmSync(root, { recursive: true, force: true }));

function mode(file: string): number {
  return statSync(file).mode & 0o777;
}

/** Proves the stored pair works: sign a blob with the key and password, verify with the public key. */
async function pairSignsAndVerifies(): Promise<boolean> {
  const password = readCosignCredentials(paths)?.password ?? "";
  const blob = join(root, "blob.txt");
  writeFileSync(blob, "proof\n");
  const signed = await execa(
    "cosign",
    ["sign-blob", "--yes", "--key", paths.cosignKeyFile, "--tlog-upload=false", blob],
    { env: { ...env, COSIGN_PASSWORD: password }, stdin: "ignore", reject: false },
  );
  if (signed.exitCode !== 0) return false;
  writeFileSync(join(root, "blob.sig"), signed.stdout.trim());
  const verified = await execa(
    "cosign",
    [
      "verify-blob",
      "--key",
      paths.cosignPublicKeyFile,
      "--signature",
      join(root, "blob.sig"),
      "--insecure-ignore-tlog=true",
      blob,
    ],
    { env, stdin: "ignore", reject: false },
  );
  return verified.exitCode === 0;
}

describe("the local signing key pair step", () => {
  it("generates the pair once: key and password file 0600, public key beside them", async () => {
    expect(await cosignKeyPair.isDone(ctx)).toBe(false);
    await cosignKeyPair.run(ctx);
    expect(await cosignKeyPair.isDone(ctx)).toBe(true);
    expect(mode(paths.cosignKeyFile)).toBe(0o600);
    expect(mode(paths.cosignCredentialsFile)).toBe(0o600);
    expect(readFileSync(paths.cosignKeyFile, "utf8")).toMatch(
      /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----/,
    );
    expect(readFileSync(paths.cosignPublicKeyFile, "utf8")).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(await pairSignsAndVerifies()).toBe(true);
    // The password went through the environment: the step's log has the command, not the password.
    const password = readCosignCredentials(paths)?.password ?? "";
    expect(password.length).toBeGreaterThanOrEqual(16);
    const log = readFileSync(ctx.logFile, "utf8");
    expect(log).toContain("$ cosign generate-key-pair");
    expect(log).not.toContain(password);
    // Nothing of the private work directory is left behind.
    expect(readdirSync(paths.state).filter((f) => f.startsWith(".cosign-key-"))).toEqual([]);
  });

  it("keeps the same pair when run again", async () => {
    const publicKey = readFileSync(paths.cosignPublicKeyFile, "utf8");
    await cosignKeyPair.run(ctx);
    expect(readFileSync(paths.cosignPublicKeyFile, "utf8")).toBe(publicKey);
    expect(await cosignKeyPair.isDone(ctx)).toBe(true);
  });

  it("is not done when the key is readable by others, and fixes the mode without a new pair", async () => {
    const publicKey = readFileSync(paths.cosignPublicKeyFile, "utf8");
    chmodSync(paths.cosignKeyFile, 0o644);
    expect(await cosignKeyPair.isDone(ctx)).toBe(false);
    await cosignKeyPair.run(ctx);
    expect(mode(paths.cosignKeyFile)).toBe(0o600);
    expect(readFileSync(paths.cosignPublicKeyFile, "utf8")).toBe(publicKey);
  });

  it("is not done when the stored password does not open the key, and replaces the pair, keeping the old files aside", async () => {
    const publicKey = readFileSync(paths.cosignPublicKeyFile, "utf8");
    writeFileSync(
      paths.cosignCredentialsFile,
      JSON.stringify({ password: "a-password-that-opens-nothing" }),
      { mode: 0o600 },
    );
    expect(await cosignKeyPair.isDone(ctx)).toBe(false);
    await cosignKeyPair.run(ctx);
    expect(await cosignKeyPair.isDone(ctx)).toBe(true);
    expect(readFileSync(paths.cosignPublicKeyFile, "utf8")).not.toBe(publicKey);
    expect(await pairSignsAndVerifies()).toBe(true);
    const aside = readdirSync(paths.state).filter((f) => f.includes(".replaced-"));
    expect(aside.map((f) => f.replace(/\.replaced-.*$/, "")).sort()).toEqual([
      "cosign-credentials.json",
      "cosign.key",
      "cosign.pub",
    ]);
  });

  it("is not done when the password file fails validation", async () => {
    const saved = readFileSync(paths.cosignCredentialsFile, "utf8");
    writeFileSync(paths.cosignCredentialsFile, JSON.stringify({ password: "short" }));
    expect(() => readCosignCredentials(paths)).toThrow();
    expect(await cosignKeyPair.isDone(ctx)).toBe(false);
    writeFileSync(paths.cosignCredentialsFile, saved);
    expect(await cosignKeyPair.isDone(ctx)).toBe(true);
  });

  it("says cosign is missing when it is not on PATH", async () => {
    const error = await cosignKeyPair
      .run({ ...ctx, env: { ...env, PATH: "/nonexistent-bin" } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolchainError);
    expect((error as ToolchainError).code).toBe("TOOLCHAIN_NOT_READY");
    expect((error as ToolchainError).hint).toMatch(/mcp-pipeline setup/);
    expect(existsSync(paths.cosignKeyFile)).toBe(true);
  });
});
