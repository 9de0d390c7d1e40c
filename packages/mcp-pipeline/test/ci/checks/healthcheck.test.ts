import { describe, expect, it } from "vitest";
import { emulation, impliedTimings } from "../../../src/ci/checks/healthcheck.js";

const s = 1_000_000_000;

describe("impliedTimings", () => {
  it("rounds readiness up to the declared interval, as Docker probes first one interval after start", () => {
    const lines = impliedTimings(
      { Interval: 10 * s, Timeout: 3 * s, StartPeriod: 10 * s, Retries: 3 },
      600,
    );
    expect(lines).toEqual([
      "declared: every 10s, start period 10s, 3 retries",
      "deployed, it turns healthy about 10s after start (the first passing probe at the declared interval)",
      "a failing probe marks it unhealthy after about 40s",
    ]);
  });

  it("adds what engines that honour --start-interval do", () => {
    const lines = impliedTimings(
      { Interval: 10 * s, StartPeriod: 10 * s, StartInterval: 1 * s, Retries: 3 },
      2_500,
    );
    expect(lines).toContain("on engines ≥ 25, which honour --start-interval: about 3s");
    expect(lines[0]).toBe("declared: every 10s, start period 10s, 3 retries, start interval 1s");
  });

  it("uses Docker's defaults for what the HEALTHCHECK leaves out", () => {
    expect(impliedTimings({ Test: ["CMD", "true"] }, 100)).toEqual([
      "declared: every 30s, start period 0ms, 3 retries",
      "deployed, it turns healthy about 30s after start (the first passing probe at the declared interval)",
      "a failing probe marks it unhealthy after about 1m 30s",
    ]);
  });
});

describe("the allowance under emulation", () => {
  it("scales with the image's native start: twenty times it, never under 30 s", () => {
    expect(emulation(3500)).toEqual({ startS: 70, basis: "20× the native 3.5s" });
    expect(emulation(800)).toEqual({ startS: 30, basis: "20× the native 800ms" });
  });

  it("is 30 s when there is no native start to scale from", () => {
    expect(emulation(undefined)).toEqual({ startS: 30, basis: "no native start to scale from" });
  });
});
