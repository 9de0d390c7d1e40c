import { describe, expect, it } from "vitest";
import { evaluateSize, formatBytes, type LayerSize, MB } from "../../../src/ci/checks/size.js";

const layer = (n: number, sizeBytes: number, createdBy?: string): LayerSize => ({
  digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
  sizeBytes,
  createdBy,
});

describe("formatBytes", () => {
  it.each([
    [0, "0 B"],
    [999, "999 B"],
    [1000, "1.0 kB"],
    [1536, "1.5 kB"],
    [134_217_728, "134.2 MB"],
    [150 * MB, "150.0 MB"],
    [999_960, "1.0 MB"],
    [2.5e9, "2.5 GB"],
  ])("formats %d bytes as %s", (bytes, expected) => {
    expect(formatBytes(bytes)).toBe(expected);
  });

  it("rejects a negative size", () => {
    expect(() => formatBytes(-1)).toThrow(RangeError);
  });
});

describe("evaluateSize", () => {
  const budget = { uncompressedMB: 150 };

  it("passes an image under budget and says how much of it is used", () => {
    const result = evaluateSize({ uncompressedBytes: 134_200_000, layers: [], budget });
    expect(result).toEqual({
      status: "passed",
      summary: "134.2 MB of 150 MB budget (89%)",
      details: [],
    });
  });

  it("passes an image exactly at the budget, counting MB as 1,000,000 bytes", () => {
    const result = evaluateSize({ uncompressedBytes: 150_000_000, layers: [], budget });
    expect(result.status).toBe("passed");
    expect(result.summary).toBe("150.0 MB of 150 MB budget (100%)");
  });

  it("fails the size check when the image exceeds the budget by a single byte", () => {
    const result = evaluateSize({ uncompressedBytes: 150_000_001, layers: [], budget });
    expect(result.status).toBe("failed");
  });

  it("says by how much an image is over and what to do about it", () => {
    const result = evaluateSize({ uncompressedBytes: 160_500_000, layers: [], budget });
    expect(result.status).toBe("failed");
    expect(result.summary).toMatch(/^160\.5 MB is 10\.5 MB over the 150 MB budget \(107%\): /);
    expect(result.summary).toContain("remove build tools");
    expect(result.summary).toContain(".dockerignore");
  });

  it("fails on the compressed budget even when the uncompressed size fits", () => {
    const result = evaluateSize({
      uncompressedBytes: 100 * MB,
      compressedBytes: 61 * MB,
      layers: [],
      budget: { uncompressedMB: 150, compressedMB: 60 },
    });
    expect(result.status).toBe("failed");
    expect(result.summary).toMatch(
      /^compressed 61\.0 MB is 1\.0 MB over the 60 MB compressed budget/,
    );
    expect(result.details).toContain("compressed: 61.0 MB of 60 MB budget (101%)");
  });

  it("reports the compressed size when known, even without a compressed budget", () => {
    const result = evaluateSize({
      uncompressedBytes: 100 * MB,
      compressedBytes: 42_000_000,
      layers: [],
      budget,
    });
    expect(result.details).toEqual(["compressed: 42.0 MB"]);
  });

  it("says when a compressed budget could not be checked", () => {
    const result = evaluateSize({
      uncompressedBytes: 100 * MB,
      layers: [],
      budget: { uncompressedMB: 150, compressedMB: 60 },
    });
    expect(result.status).toBe("passed");
    expect(result.details).toEqual([
      "compressed: unknown, so the 60 MB compressed budget was not checked",
    ]);
  });

  it("lists the five biggest layers, biggest first, skipping empty ones", () => {
    const layers = [
      layer(1, 2_000_000, "COPY a /a"),
      layer(2, 90_000_000, "COPY /rootfs/ / # buildkit"),
      layer(3, 0, "ENV X=1"),
      layer(4, 500, "USER 1000"),
      layer(5, 30_000_000, "RUN npm ci"),
      layer(6, 7_000_000),
      layer(7, 1_000, "WORKDIR /app"),
      layer(8, 3_000_000, "COPY b /b"),
    ];
    const result = evaluateSize({ uncompressedBytes: 133 * MB, layers, budget });
    expect(result.details).toEqual([
      "biggest 5 of 8 layers:",
      "    90.0 MB  sha256:222222222222  COPY /rootfs/ / # buildkit",
      "    30.0 MB  sha256:555555555555  RUN npm ci",
      "     7.0 MB  sha256:666666666666",
      "     3.0 MB  sha256:888888888888  COPY b /b",
      "     2.0 MB  sha256:111111111111  COPY a /a",
    ]);
  });

  it("collapses a long multi-line instruction to 80 characters", () => {
    const createdBy = `/bin/sh -c #(nop)  RUN apt-get update \\\n    && apt-get install -y ${"package ".repeat(20)}`;
    const result = evaluateSize({
      uncompressedBytes: MB,
      layers: [layer(9, MB, createdBy)],
      budget,
    });
    const line = result.details[1] ?? "";
    const instruction = line.split("sha256:999999999999  ")[1] ?? "";
    expect(instruction).toHaveLength(80);
    expect(instruction.startsWith("RUN apt-get update \\ && apt-get install -y package")).toBe(
      true,
    );
    expect(instruction.endsWith("…")).toBe(true);
  });

  it("rejects a budget that is not positive", () => {
    expect(() =>
      evaluateSize({ uncompressedBytes: 1, layers: [], budget: { uncompressedMB: 0 } }),
    ).toThrow(RangeError);
  });
});
