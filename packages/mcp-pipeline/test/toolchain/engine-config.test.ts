import { describe, expect, it } from "vitest";
import { TOKEN_REGISTRY_ADDRESS } from "../../src/toolchain/registry-config.js";
import { engineConfig } from "../../src/toolchain/steps/dagger-engine.js";
import {
  coversEngineConfig,
  engineContainerName,
  mergeEngineConfig,
} from "../../src/toolchain/steps/engine-config.js";
import { versions } from "../../src/toolchain/versions.js";

const mirror = { port: 5000, address: "172.17.0.1:5000" };
const auth = { port: 5001, address: "172.17.0.1:5001" };

describe("engineConfig", () => {
  it("air-gapped: Docker Hub and gcr.io resolve from the mirror, both local registries are plain HTTP", () => {
    expect(engineConfig({ mirror, auth })).toEqual({
      registries: {
        "docker.io": { mirrors: ["172.17.0.1:5000"] },
        "gcr.io": { mirrors: ["172.17.0.1:5000"] },
        "172.17.0.1:5000": { http: true },
        "172.17.0.1:5001": { http: true },
        [TOKEN_REGISTRY_ADDRESS]: { http: true },
      },
    });
  });

  it("online with a local publish target: only the local registries the tests publish to, as plain HTTP", () => {
    expect(engineConfig({ auth })).toEqual({
      registries: { "172.17.0.1:5001": { http: true }, [TOKEN_REGISTRY_ADDRESS]: { http: true } },
    });
  });
});

describe("mergeEngineConfig", () => {
  it("keeps the user's own settings and registries and puts our mirror first", () => {
    const user = {
      logLevel: "debug",
      registries: {
        "docker.io": { mirrors: ["mirror.corp.example"] },
        "registry.corp.example": { http: true },
      },
    };
    const merged = mergeEngineConfig(user, engineConfig({ mirror, auth }), []);
    expect(merged).toEqual({
      logLevel: "debug",
      registries: {
        "docker.io": { mirrors: ["172.17.0.1:5000", "mirror.corp.example"] },
        "registry.corp.example": { http: true },
        "gcr.io": { mirrors: ["172.17.0.1:5000"] },
        "172.17.0.1:5000": { http: true },
        "172.17.0.1:5001": { http: true },
        [TOKEN_REGISTRY_ADDRESS]: { http: true },
      },
    });
  });

  it("is idempotent", () => {
    const ours = engineConfig({ mirror, auth });
    const once = mergeEngineConfig({}, ours, []);
    expect(mergeEngineConfig(once, ours, Object.keys(ours.registries))).toEqual(once);
  });

  it("takes out an address it wrote before when a registry moved to another port", () => {
    const before = mergeEngineConfig({}, engineConfig({ mirror, auth }), []);
    const moved = { port: 5002, address: "172.17.0.1:5002" };
    const after = mergeEngineConfig(
      before,
      engineConfig({ mirror: moved, auth }),
      Object.keys(before.registries ?? {}),
    );
    expect(after.registries?.["172.17.0.1:5000"]).toBeUndefined();
    expect(after.registries?.["docker.io"]).toEqual({ mirrors: ["172.17.0.1:5002"] });
    expect(after.registries?.["172.17.0.1:5002"]).toEqual({ http: true });
  });
});

describe("coversEngineConfig", () => {
  it("is false for an engine config that lacks our plain-HTTP registry", () => {
    const ours = engineConfig({ auth: { port: 15001, address: "172.17.0.1:15001" } });
    expect(coversEngineConfig(engineConfig({ mirror, auth }), ours)).toBe(false);
    expect(coversEngineConfig(mergeEngineConfig({}, ours, []), ours)).toBe(true);
  });
});

describe("engineContainerName", () => {
  it("is dagger-engine-<tag> by default, as the CLI names it", () => {
    expect(engineContainerName({})).toBe(`dagger-engine-v${versions.dagger}`);
    expect(
      engineContainerName({ runnerHost: "docker-image://registry.dagger.io/engine:v1.2.3" }),
    ).toBe("dagger-engine-v1.2.3");
  });

  it("follows container= of a docker-image runner host", () => {
    expect(
      engineContainerName({
        runnerHost: "docker-image://registry.dagger.io/engine:v1?container=mine&cleanup=false",
      }),
    ).toBe("mine");
  });
});
