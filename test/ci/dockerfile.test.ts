import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { healthcheckInstruction, healthcheckOf, parseDuration } from "../../ci/dockerfile.js";
import { repoRoot } from "../toolchain/helpers.js";

describe("healthcheckOf", () => {
  const dockerfile = readFileSync(join(repoRoot, "Dockerfile"), "utf8");

  it("reads the MCP server's HEALTHCHECK from the project's Dockerfile", () => {
    expect(healthcheckOf(dockerfile, "mcp-server")).toEqual({
      test: ["CMD", "/usr/local/bin/node", "/app/healthcheck.mjs"],
      intervalNs: 10e9,
      timeoutNs: 3e9,
      startPeriodNs: 10e9,
      retries: 3,
    });
  });

  it("uses the last stage when no target is given, and the backend's own for --target backend", () => {
    expect(healthcheckOf(dockerfile)?.test).toEqual([
      "CMD",
      "/usr/local/bin/node",
      "/app/healthcheck.mjs",
    ]);
    expect(healthcheckOf(dockerfile, "backend")?.test).toEqual([
      "CMD",
      "/usr/local/bin/node",
      "/app/healthcheck.mjs",
      "8000",
    ]);
  });

  it("inherits through FROM <stage>, honours HEALTHCHECK NONE and reads shell form", () => {
    const text = [
      "FROM node:24 AS base",
      "HEALTHCHECK CMD curl -f http://localhost/ || exit 1",
      "FROM base AS child",
      "FROM base AS opted-out",
      "HEALTHCHECK NONE",
    ].join("\n");
    expect(healthcheckOf(text, "child")).toEqual({
      test: ["CMD-SHELL", "curl -f http://localhost/ || exit 1"],
    });
    expect(healthcheckOf(text, "opted-out")).toBeUndefined();
  });

  it("names a missing target", () => {
    expect(() => healthcheckOf("FROM scratch", "nope")).toThrow(/no stage named nope/);
  });

  it("round-trips through the instruction it renders", () => {
    const hc = healthcheckOf(dockerfile, "backend");
    expect(hc).toBeDefined();
    if (!hc) return;
    expect(healthcheckOf(`FROM scratch\n${healthcheckInstruction(hc)}`)).toEqual(hc);
  });
});

describe("parseDuration", () => {
  it.each([
    ["10s", 10e9],
    ["1m30s", 90e9],
    ["500ms", 5e8],
  ])("parses %s", (text, ns) => {
    expect(parseDuration(text)).toBe(ns);
  });

  it("rejects nonsense", () => {
    expect(() => parseDuration("ten")).toThrow(/invalid duration/);
  });
});
