import { describe, expect, it } from "vitest";
import { parseDockerSize } from "../../../ci/docker/image-facts.js";

describe("parseDockerSize", () => {
  it.each([
    ["132MB", 132_000_000],
    ["1.73MB", 1_730_000],
    ["4.1kB", 4_100],
    ["0B", 0],
  ])("reads %s as %i bytes", (text, bytes) => {
    expect(parseDockerSize(text)).toBe(bytes);
  });
});
