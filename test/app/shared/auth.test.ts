import { describe, expect, it } from "vitest";
import { bearerMatches } from "../../../app/shared/auth.js";

describe("bearerMatches", () => {
  it("accepts the exact token after Bearer, case-insensitively on the scheme", () => {
    expect(bearerMatches("Bearer abc123", "abc123")).toBe(true);
    expect(bearerMatches("bearer abc123", "abc123")).toBe(true);
  });

  it("rejects a missing header, another scheme, a prefix and a longer token", () => {
    expect(bearerMatches(undefined, "abc123")).toBe(false);
    expect(bearerMatches("Basic abc123", "abc123")).toBe(false);
    expect(bearerMatches("Bearer abc", "abc123")).toBe(false);
    expect(bearerMatches("Bearer abc1234", "abc123")).toBe(false);
    expect(bearerMatches("Bearer ", "abc123")).toBe(false);
  });
});
