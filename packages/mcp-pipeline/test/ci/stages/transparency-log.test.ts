import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/ci/errors.js";
import {
  logCall,
  PUBLIC_REKOR_URL,
  rekorKeyFile,
  signingPlan,
  transparencyLog,
} from "../../../src/ci/stages/sign.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "transparency-log-"));
  dirs.push(dir);
  return dir;
}

function rekorKey(): string {
  const file = join(tempDir(), "rekor.pub");
  writeFileSync(file, "-----BEGIN PUBLIC KEY-----\nrekor\n-----END PUBLIC KEY-----\n");
  return file;
}

describe("transparencyLog", () => {
  it("is the public instance, without --rekor-url, when nothing is configured", () => {
    expect(transparencyLog({}, true)).toEqual({
      url: PUBLIC_REKOR_URL,
      rekorUrl: undefined,
      publicKey: undefined,
    });
  });

  it("is none when the signature is not uploaded", () => {
    expect(transparencyLog({ url: "https://rekor.internal" }, false)).toBeUndefined();
  });

  it("uses a private log with its public key", () => {
    const key = rekorKey();
    expect(transparencyLog({ url: "https://rekor.internal/", publicKey: key }, true)).toEqual({
      url: "https://rekor.internal",
      rekorUrl: "https://rekor.internal",
      publicKey: key,
    });
  });

  it("refuses a private log without its public key, naming the settings that give it", () => {
    const call = () => transparencyLog({ url: "https://rekor.internal" }, true);
    expect(call).toThrowError(ConfigError);
    expect(call).toThrowError(
      /sign\.rekorUrl names a private transparency log \(https:\/\/rekor\.internal\) but not its public key: set sign\.rekorPublicKey \(or SIGSTORE_REKOR_PUBLIC_KEY\)/,
    );
  });

  it("refuses a public key file that does not exist", () => {
    const missing = join(tempDir(), "absent.pub");
    expect(() =>
      transparencyLog({ url: "https://rekor.internal", publicKey: missing }, true),
    ).toThrowError(`the transparency log's public key file ${missing} does not exist`);
  });

  it("does not pass --rekor-url for the public instance named explicitly", () => {
    expect(transparencyLog({ url: `${PUBLIC_REKOR_URL}/` }, true)?.rekorUrl).toBeUndefined();
  });
});

describe("logCall", () => {
  it("gives cosign --rekor-url and SIGSTORE_REKOR_PUBLIC_KEY for a private log", () => {
    const key = rekorKey();
    const log = transparencyLog({ url: "http://127.0.0.1:3000", publicKey: key }, true);
    expect(logCall(log, { PATH: "/bin" })).toEqual({
      sigstore: { rekorUrl: "http://127.0.0.1:3000" },
      env: { PATH: "/bin", SIGSTORE_REKOR_PUBLIC_KEY: key },
    });
  });

  it("changes nothing for the public instance or no log", () => {
    const env = { PATH: "/bin" };
    expect(logCall(transparencyLog({}, true), env)).toEqual({ sigstore: undefined, env });
    expect(logCall(undefined, env)).toEqual({ sigstore: undefined, env });
  });
});

describe("signingPlan with a private transparency log", () => {
  const plan = (offline: boolean, rekor: { url?: string; publicKey?: string }) => {
    const dir = tempDir();
    const publicKey = join(dir, "cosign.pub");
    writeFileSync(publicKey, "-----BEGIN PUBLIC KEY-----\ntest\n-----END PUBLIC KEY-----\n");
    return signingPlan({
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
      offline,
      reportDir: join(dir, "report"),
      rekor,
    });
  };

  it("uploads to a configured private log even air-gapped, where it may be reachable", async () => {
    const key = rekorKey();
    expect(await plan(true, { url: "http://rekor.lan", publicKey: key })).toMatchObject({
      tlog: true,
      // The key as users get it: copied into the report directory.
      log: {
        url: "http://rekor.lan",
        rekorUrl: "http://rekor.lan",
        publicKey: expect.stringMatching(/\/report\/rekor\.pub$/),
      },
    });
  });

  it("still keeps an air-gapped signature out of the public log", async () => {
    expect(await plan(true, {})).toMatchObject({ tlog: false, log: undefined });
  });

  it("fails before signing when the private log's key is missing", async () => {
    await expect(plan(false, { url: "http://rekor.lan" })).rejects.toThrowError(ConfigError);
  });

  it("skips, not fails, when there is nothing to sign with, whatever the log", async () => {
    const dir = tempDir();
    expect(
      await signingPlan({
        enabled: true,
        signing: {
          githubOidc: false,
          key: undefined,
          localKey: undefined,
          github: {},
          cosignEnv: {},
          rekorPublicKey: undefined,
        },
        localTarget: false,
        offline: false,
        reportDir: join(dir, "report"),
        rekor: { url: "http://rekor.lan" },
      }),
    ).toMatchObject({ skip: expect.stringContaining("no signing key") });
  });
});

describe("rekorKeyFile", () => {
  it("writes a key given as PEM (a repository variable) to rekor.pub in the report directory", () => {
    const reportDir = join(tempDir(), "report");
    const pem = "-----BEGIN PUBLIC KEY-----\nrekor\n-----END PUBLIC KEY-----";
    const settings = rekorKeyFile({ url: "http://rekor.lan", publicKey: `${pem}\n\n` }, reportDir);
    expect(settings).toEqual({ url: "http://rekor.lan", publicKey: join(reportDir, "rekor.pub") });
    expect(readFileSync(join(reportDir, "rekor.pub"), "utf8")).toBe(`${pem}\n`);
  });

  it("copies a key file to rekor.pub in the report directory, where users get it", () => {
    const dir = tempDir();
    const pem = "-----BEGIN PUBLIC KEY-----\nfile\n-----END PUBLIC KEY-----\n";
    writeFileSync(join(dir, "log.pem"), pem);
    const reportDir = join(dir, "report");
    const settings = rekorKeyFile(
      { url: "http://rekor.lan", publicKey: join(dir, "log.pem") },
      reportDir,
    );
    expect(settings).toEqual({ url: "http://rekor.lan", publicKey: join(reportDir, "rekor.pub") });
    expect(readFileSync(join(reportDir, "rekor.pub"), "utf8")).toBe(pem);
    // Run again on its own output: nothing to copy.
    expect(rekorKeyFile(settings, reportDir)).toBe(settings);
  });

  it("leaves a missing key file's path for transparencyLog to report, and no key at all", () => {
    const reportDir = join(tempDir(), "report");
    const missing = { url: "http://rekor.lan", publicKey: "/nonexistent/rekor.pub" };
    expect(rekorKeyFile(missing, reportDir)).toBe(missing);
    expect(() => transparencyLog(rekorKeyFile(missing, reportDir), true)).toThrowError(
      /\/nonexistent\/rekor.pub does not exist/,
    );
    const none = { url: undefined };
    expect(rekorKeyFile(none, reportDir)).toBe(none);
    expect(existsSync(join(reportDir, "rekor.pub"))).toBe(false);
  });
});
