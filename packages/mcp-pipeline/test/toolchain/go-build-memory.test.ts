import { describe, expect, it } from "vitest";
import { goBuildMemory } from "../../src/toolchain/go.js";

const GiB = 2 ** 30;

describe("goBuildMemory", () => {
  it("collects a quarter as often, under a quarter of the machine's memory", () => {
    expect(goBuildMemory({}, 23 * GiB)).toEqual({ GOGC: "400", GOMEMLIMIT: "5888MiB" });
  });

  it("keeps the caller's own settings", () => {
    expect(goBuildMemory({ GOGC: "100", GOMEMLIMIT: "2GiB" }, 23 * GiB)).toEqual({
      GOGC: "100",
      GOMEMLIMIT: "2GiB",
    });
    expect(goBuildMemory({ GOGC: "off" }, 8 * GiB)).toEqual({ GOGC: "off", GOMEMLIMIT: "2048MiB" });
  });

  it("never sets a limit below 256 MiB on a tiny machine", () => {
    expect(goBuildMemory({}, 512 * 2 ** 20).GOMEMLIMIT).toBe("256MiB");
  });
});
