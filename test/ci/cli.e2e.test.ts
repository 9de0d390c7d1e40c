import { describe, expect, it } from "vitest";
import { env, runEntry } from "../toolchain/helpers.js";
import { auth, skipAllBut } from "./pipeline-harness.js";

const pipeline = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
  runEntry(["pipeline", ...args], { ...env, ...extraEnv });

describe("npm run pipeline: bad input gets a clear error and exit code 2", () => {
  it("documents every option in --help", async () => {
    const res = await pipeline(["--help"]);
    expect(res.exitCode).toBe(0);
    for (const flag of [
      "--config",
      "--size-budget",
      "--severity",
      "--registry",
      "--repository",
      "--tag",
      "--no-publish",
      "--skip",
      "--report-dir",
    ]) {
      expect(res.stdout).toContain(flag);
    }
    expect(res.stdout).toMatch(
      /Exit codes: 0 all gates passed, 1 a gate failed, 2 bad configuration/,
    );
  });

  it("names the field and what was expected for a bad value", async () => {
    const res = await pipeline(["verify", "--size-budget", "abc"]);
    expect(res.exitCode).toBe(2);
    expect(res.all).toMatch(/sizeBudget\.uncompressedMB: expected a positive number/);
  });

  it("rejects an unknown stage", async () => {
    const res = await pipeline(["deploy"]);
    expect(res.exitCode).toBe(2);
    expect(res.all).toMatch(/unknown stage "deploy"/);
  });

  it("says which secret is missing before building anything", async () => {
    const res = await pipeline([], {
      REGISTRY: "registry.example.test",
      REGISTRY_USERNAME: "someone",
      REGISTRY_PASSWORD: "",
      GITHUB_TOKEN: "",
    });
    expect(res.exitCode).toBe(2);
    expect(res.all).toMatch(/needs a password: set REGISTRY_PASSWORD/);
    expect(res.all).not.toMatch(/\[build\]/);
  });

  it("reports a registry that refuses the login, without printing the password", async () => {
    expect(auth).toBeDefined();
    const wrong = "definitely-not-the-password-7f3a";
    const res = await pipeline(
      [
        ...skipAllBut(),
        "--repository",
        `${auth?.address}/refused-login`,
        "--username",
        auth?.username ?? "",
      ],
      { REGISTRY_PASSWORD: wrong },
    );
    expect(res.exitCode, res.all?.slice(-2000)).toBe(2);
    expect(res.all).toMatch(/publishing to .*refused-login failed/);
    expect(res.all).toMatch(/REGISTRY_PASSWORD/);
    expect(res.all).not.toContain(wrong);
  });
});
