import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../app/mcp/config.js";
import { ConfigError } from "../../../app/shared/errors.js";

const base = { SERVICE_AUTH_TOKEN: "t" };

describe("MCP loadConfig", () => {
  it("applies the documented defaults", () => {
    expect(loadConfig(base)).toEqual({
      backend: { baseUrl: "http://localhost:8000", token: "t", timeoutMs: 30_000, maxRetries: 2 },
      http: {
        port: 3000,
        host: "0.0.0.0",
        allowedHosts: ["localhost", "127.0.0.1", "mcp-server"],
        authToken: undefined,
      },
      logLevel: "info",
    });
  });

  it("accepts FASTAPI_BASE_URL as an alias and prefers BACKEND_BASE_URL when both are set", () => {
    expect(loadConfig({ ...base, FASTAPI_BASE_URL: "http://api:8000/" }).backend.baseUrl).toBe(
      "http://api:8000",
    );
    expect(
      loadConfig({ ...base, FASTAPI_BASE_URL: "http://old:1", BACKEND_BASE_URL: "http://new:2" })
        .backend.baseUrl,
    ).toBe("http://new:2");
  });

  it("lets PORT override MCP_SERVER_PORT", () => {
    expect(loadConfig({ ...base, MCP_SERVER_PORT: "4000" }).http.port).toBe(4000);
    expect(loadConfig({ ...base, MCP_SERVER_PORT: "4000", PORT: "5000" }).http.port).toBe(5000);
  });

  it("reads fractional BACKEND_TIMEOUT seconds and a comma list of allowed hosts", () => {
    const config = loadConfig({
      ...base,
      BACKEND_TIMEOUT: "1.5",
      MCP_ALLOWED_HOSTS: " Example.com, mcp-server ,",
    });
    expect(config.backend.timeoutMs).toBe(1500);
    expect(config.http.allowedHosts).toEqual(["example.com", "mcp-server"]);
  });

  it("fails naming SERVICE_AUTH_TOKEN when it is missing", () => {
    expect(() => loadConfig({})).toThrow(ConfigError);
    expect(() => loadConfig({})).toThrow(
      "invalid configuration: SERVICE_AUTH_TOKEN: is required: set it to the bearer token the todo backend expects",
    );
  });

  it("fails naming the variable for a malformed or non-http URL", () => {
    expect(() => loadConfig({ ...base, BACKEND_BASE_URL: "localhost:8000" })).toThrow(
      "BACKEND_BASE_URL: must be an http:// or https:// URL",
    );
    expect(() => loadConfig({ ...base, FASTAPI_BASE_URL: "ftp://files" })).toThrow(
      "FASTAPI_BASE_URL: must be an http:// or https:// URL",
    );
    expect(() => loadConfig({ ...base, BACKEND_BASE_URL: "http://u:p@api:8000" })).toThrow(
      "BACKEND_BASE_URL: must not contain a username or password",
    );
  });

  it("rejects out-of-range timeouts and retry counts in one line", () => {
    try {
      loadConfig({ ...base, BACKEND_TIMEOUT: "0", BACKEND_MAX_RETRIES: "11", MCP_LOG_LEVEL: "x" });
      expect.unreachable();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).not.toContain("\n");
      expect(message).toContain("BACKEND_TIMEOUT: must be more than 0 seconds");
      expect(message).toContain("BACKEND_MAX_RETRIES: must be 0–10");
      expect(message).toContain("MCP_LOG_LEVEL: must be one of");
    }
  });
});
