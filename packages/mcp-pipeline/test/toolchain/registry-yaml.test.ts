import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { registryConfig } from "../../src/toolchain/steps/registry.js";

describe("registryConfig", () => {
  it("writes the distribution config as YAML that reads back whole, whatever the paths hold", () => {
    const text = registryConfig("auth", 5001, "/tmp/data: #weird", "/tmp/auth/htpasswd");
    expect(parse(text)).toEqual({
      version: 0.1,
      log: { level: "warn", accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: "/tmp/data: #weird" }, delete: { enabled: true } },
      http: { addr: "0.0.0.0:5001", headers: { "X-Content-Type-Options": ["nosniff"] } },
      auth: { htpasswd: { realm: "auth", path: "/tmp/auth/htpasswd" } },
    });
  });

  it("leaves auth out for the anonymous mirror", () => {
    expect(parse(registryConfig("mirror", 5000, "/data"))).not.toHaveProperty("auth");
  });
});
