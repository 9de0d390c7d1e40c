import { describe, expect, it } from "vitest";
import { interactiveView } from "../../src/toolchain/dagger-run.js";

describe("interactiveView", () => {
  it("gives a terminal outside CI Dagger's interactive view", () => {
    expect(interactiveView(true, {})).toBe(true);
  });

  it("keeps the plain trace in CI even on a pseudo-terminal, so errors reach the log", () => {
    expect(interactiveView(true, { CI: "true" })).toBe(false);
    expect(interactiveView(true, { CI: "1" })).toBe(false);
    expect(interactiveView(true, { GITHUB_ACTIONS: "true" })).toBe(false);
  });

  it("keeps the plain trace when nobody is at a terminal", () => {
    expect(interactiveView(false, {})).toBe(false);
  });
});
