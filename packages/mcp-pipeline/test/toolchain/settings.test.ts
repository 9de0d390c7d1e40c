import { describe, expect, it } from "vitest";
import { loadSettings, usesSharedEngine } from "../../src/toolchain/settings.js";

describe("loadSettings", () => {
  it("reads the download mirror without its trailing slash, and the registry ports", () => {
    const s = loadSettings({
      DOWNLOAD_MIRROR: "http://127.0.0.1:8080/",
      MCP_PIPELINE_MIRROR_PORT: "15000",
      MCP_PIPELINE_AUTH_PORT: "15001",
      XDG_CONFIG_HOME: "/tmp/cfg",
      DOCKER_CONFIG: "/tmp/docker",
    });
    expect(s).toMatchObject({
      downloadMirror: "http://127.0.0.1:8080",
      mirrorPort: 15000,
      authPort: 15001,
      configHome: "/tmp/cfg",
      dockerConfig: "/tmp/docker",
    });
  });

  it("names the variable and what was expected when a port is not a port", () => {
    expect(() => loadSettings({ MCP_PIPELINE_AUTH_PORT: "80" })).toThrow(
      /MCP_PIPELINE_AUTH_PORT="80": expected a port from 1024 to 65535/,
    );
  });

  it("rejects a download mirror that is not an http(s) URL", () => {
    expect(() => loadSettings({ DOWNLOAD_MIRROR: "ftp://mirror" })).toThrow(/DOWNLOAD_MIRROR=/);
  });

  it("reads DEBIAN_MIRROR as a URL or off, and names it when it is neither", () => {
    expect(loadSettings({ DEBIAN_MIRROR: "http://ftp.example.test/debian/" }).debianMirror).toBe(
      "http://ftp.example.test/debian",
    );
    expect(loadSettings({ DEBIAN_MIRROR: "off" }).debianMirror).toBe("off");
    expect(() => loadSettings({ DEBIAN_MIRROR: "no" })).toThrow(
      /DEBIAN_MIRROR="no": expected an http:\/\/ or https:\/\/ URL of a Debian mirror, or off/,
    );
  });

  it("reads MCP_PIPELINE_IMAGE_STORE as classic or containerd, and names it when it is neither", () => {
    expect(loadSettings({}).imageStore).toBeUndefined();
    expect(loadSettings({ MCP_PIPELINE_IMAGE_STORE: "containerd" }).imageStore).toBe("containerd");
    expect(loadSettings({ MCP_PIPELINE_IMAGE_STORE: "classic" }).imageStore).toBe("classic");
    expect(() => loadSettings({ MCP_PIPELINE_IMAGE_STORE: "overlay2" })).toThrow(
      'MCP_PIPELINE_IMAGE_STORE="overlay2": expected classic or containerd.',
    );
  });

  it("refuses a mirror signing key without a mirror", () => {
    expect(() => loadSettings({ DOWNLOAD_MIRROR_COSIGN_KEY: "/k.pub" })).toThrow(
      /DOWNLOAD_MIRROR is not/,
    );
  });
});

describe("usesSharedEngine", () => {
  it.each([
    [undefined, false],
    ["docker-image://registry.dagger.io/engine:v0.19.10", false],
    ["docker-container://dagger-shared", true],
    ["tcp://10.0.0.5:1234", true],
    ["kube-pod://dagger-engine-0?namespace=dagger", true],
  ])("treats runner host %s as shared: %s", (runnerHost, shared) => {
    expect(usesSharedEngine({ runnerHost })).toBe(shared);
  });
});
