import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../app/backend/config.js";
import { ConfigError } from "../../../app/shared/errors.js";

describe("backend loadConfig", () => {
  it("applies defaults when only the token is set", () => {
    expect(loadConfig({ SERVICE_AUTH_TOKEN: "t" })).toEqual({
      port: 8000,
      host: "0.0.0.0",
      dataDir: "./data",
      serviceAuthToken: "t",
      logLevel: "info",
    });
  });

  it("reads PORT, DATA_DIR and a case-insensitive LOG_LEVEL", () => {
    const config = loadConfig({
      SERVICE_AUTH_TOKEN: "t",
      PORT: "9000",
      DATA_DIR: "/data",
      LOG_LEVEL: "DEBUG",
    });
    expect(config).toMatchObject({ port: 9000, dataDir: "/data", logLevel: "debug" });
  });

  it("fails with one line naming SERVICE_AUTH_TOKEN when it is missing or empty", () => {
    for (const env of [{}, { SERVICE_AUTH_TOKEN: "" }]) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(
        /^invalid configuration: SERVICE_AUTH_TOKEN: is required/,
      );
    }
  });

  it("names every bad variable in the same line", () => {
    try {
      loadConfig({ SERVICE_AUTH_TOKEN: "t", PORT: "http", LOG_LEVEL: "loud" });
      expect.unreachable();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).not.toContain("\n");
      expect(message).toContain("PORT: must be a port number");
      expect(message).toContain("LOG_LEVEL: must be one of debug, info, warn, error, silent");
    }
  });
});
