import { describe, expect, it } from "vitest";
import { detectMode } from "../../toolchain/mode.js";

describe("detectMode", () => {
  it("takes AIRGAP=1 as the air-gapped path without probing", async () => {
    expect(await detectMode({ AIRGAP: "1" }, 1)).toEqual({ mode: "airgap", reason: "AIRGAP=1" });
  });

  it("takes AIRGAP=0 as the online path without probing", async () => {
    expect(await detectMode({ AIRGAP: "0" }, 1)).toEqual({ mode: "online", reason: "AIRGAP=0" });
  });

  it("rejects any other AIRGAP value with a message naming the variable", async () => {
    await expect(detectMode({ AIRGAP: "maybe" })).rejects.toThrow(/AIRGAP must be 1 or 0/);
  });

  it("decides within its timeout when nothing answers", async () => {
    const started = Date.now();
    const { mode } = await detectMode({}, 3000);
    expect(["airgap", "online"]).toContain(mode);
    expect(Date.now() - started).toBeLessThan(6000);
  });
});
