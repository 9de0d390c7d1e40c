import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  dockerAuthKey,
  dockerConfigJson,
  withDockerConfig,
} from "../../../src/ci/sign/docker-config.js";

const registry = {
  address: "172.17.0.1:5001",
  username: "pipeline",
  password: "pa:ss-w0rd",
  plainHttp: true,
};

describe("dockerConfigJson", () => {
  it("holds the credentials as base64 user:password under the registry host", () => {
    const config = JSON.parse(dockerConfigJson(registry)) as {
      auths: Record<string, { auth: string }>;
    };
    expect(Object.keys(config.auths)).toEqual(["172.17.0.1:5001"]);
    const auth = config.auths["172.17.0.1:5001"]?.auth ?? "";
    expect(Buffer.from(auth, "base64").toString()).toBe("pipeline:pa:ss-w0rd");
  });

  it("uses Docker Hub's legacy key for docker.io", () => {
    expect(dockerAuthKey("docker.io")).toBe("https://index.docker.io/v1/");
    expect(dockerAuthKey("ghcr.io")).toBe("ghcr.io");
  });
});

describe("withDockerConfig", () => {
  it("gives the callback a private directory with a 0600 config.json, then deletes it", async () => {
    let seen = "";
    const result = await withDockerConfig(registry, async (dir) => {
      seen = dir;
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      const file = join(dir, "config.json");
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(file, "utf8")).toBe(dockerConfigJson(registry));
      return 42;
    });
    expect(result).toBe(42);
    expect(seen).not.toBe("");
    expect(existsSync(seen)).toBe(false);
  });

  it("deletes the directory when the callback throws, and rethrows", async () => {
    let seen = "";
    await expect(
      withDockerConfig(registry, async (dir) => {
        seen = dir;
        throw new Error("cosign blew up");
      }),
    ).rejects.toThrow("cosign blew up");
    expect(existsSync(seen)).toBe(false);
  });
});
