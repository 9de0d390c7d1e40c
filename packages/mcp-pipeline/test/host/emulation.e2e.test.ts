import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { emulationStatus, probeExecutable } from "../../src/host/emulation.js";
import { foreignArches } from "../../src/host/platforms.js";
import { baseImages } from "../../src/toolchain/versions.js";
import { env } from "../toolchain/helpers.js";

const scratch = mkdtempSync(join(tmpdir(), "emulation-e2e-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("emulation after setup", () => {
  for (const arch of foreignArches()) {
    it(`runs an ${arch} executable on the host through binfmt_misc`, async () => {
      expect(await emulationStatus(arch)).toEqual({ ok: true });
    });

    it(`runs an ${arch} executable inside a container that has no emulator of its own (the F flag)`, async () => {
      const probe = join(scratch, `probe-${arch}`);
      writeFileSync(probe, probeExecutable(arch));
      chmodSync(probe, 0o755);
      const res = await execa(
        "docker",
        ["run", "--rm", "-v", `${probe}:/probe:ro`, baseImages.debian, "/probe"],
        { env },
      );
      expect(res.stdout.trim()).toBe(arch);
    });
  }
});
