import { describe, expect, it } from "vitest";
import { isPlainHttp } from "../../src/ci/run/run.js";

// cosign must be told to speak plain HTTP to the local registries and to loopback, and only there:
// anything else gets TLS.
describe("isPlainHttp", () => {
  it.each([
    ["the local registry setup recorded, wherever it is", "10.0.0.5:5001", "10.0.0.5:5001"],
    ["localhost with a port", "localhost:5000", undefined],
    ["localhost without a port", "localhost", undefined],
    ["a loopback address", "127.0.0.1:5000", undefined],
    ["the docker bridge", "172.17.0.1:5002", undefined],
  ])("is true for %s (%s)", (_what, address, local) => {
    expect(isPlainHttp(address, local)).toBe(true);
  });

  it.each([
    ["ghcr.io", "ghcr.io"],
    ["a registry on a port of its own", "registry.example.com:5000"],
    ["a host whose name only starts with localhost", "localhost.example.com:5000"],
  ])("is false for %s (%s)", (_what, address) => {
    expect(isPlainHttp(address, "172.17.0.1:5001")).toBe(false);
  });
});
