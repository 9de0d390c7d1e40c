import { describe, expect, it } from "vitest";
import { formatDuration } from "../../toolchain/progress.js";

describe("formatDuration", () => {
  it.each([
    [850, "850ms"],
    [12_340, "12.3s"],
    [245_000, "4m05s"],
  ])("formats %i ms as %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
