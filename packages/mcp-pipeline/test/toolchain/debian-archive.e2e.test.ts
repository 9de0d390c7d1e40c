import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { matchesPin, upstreamVersion } from "../../src/toolchain/debian-archive/version.js";
import { loadSettings, toolchainPaths } from "../../src/toolchain/settings.js";
import { setup } from "../../src/toolchain/setup.js";
import { readProvenance } from "../../src/toolchain/state.js";
import { goToolSteps } from "../../src/toolchain/steps/go-tools.js";
import { versions } from "../../src/toolchain/versions.js";

// The real thing: Debian's mirror (the one apt uses here), its real signatures, checked against
// the machine's debian-archive-keyring, into a cache of the test's own.
const root = mkdtempSync(join(tmpdir(), "debian-archive-e2e-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const env: NodeJS.ProcessEnv = {
  ...process.env,
  AIRGAP: "1",
  MCP_PIPELINE_CACHE: join(root, "cache"),
  DOCKER_CONFIG: join(root, "docker"),
  // No Go build may stand in for the archive here: the test is that none was needed.
  GOPROXY: "off",
  GOFLAGS: "-mod=mod",
  GOMODCACHE: join(root, "gomod"),
};
delete env.MCP_PIPELINE_BIN;
delete env.DEBIAN_MIRROR;
const paths = toolchainPaths(env);

describe("Compose and Buildx from Debian's signed archive", () => {
  it("installs both at the pinned versions, verified from InRelease down, with their provenance", async () => {
    const steps = goToolSteps.filter((s) => ["docker-compose", "docker-buildx"].includes(s.id));
    const result = await setup(paths, {
      settings: loadSettings(env),
      needs: { authRegistry: false },
      env,
      steps,
    });
    expect(result.steps.map((s) => [s.id, s.status])).toEqual([
      ["docker-compose", "done"],
      ["docker-buildx", "done"],
    ]);
    process.stderr.write(
      `archive steps: ${result.steps.map((s) => `${s.id} ${(s.ms / 1000).toFixed(1)} s`).join(", ")}\n`,
    );

    const compose = await execa(join(paths.bin, "docker-compose"), ["version", "--short"], { env });
    expect(upstreamVersion(compose.stdout.trim())).toBe(versions.compose);
    const buildx = await execa(join(paths.bin, "docker-buildx"), ["version"], { env });
    expect(buildx.stdout).toContain(versions.buildx);

    // The Docker CLI finds them as plugins in this test's DOCKER_CONFIG.
    expect(existsSync(join(root, "docker", "cli-plugins", "docker-compose"))).toBe(true);
    const viaCli = await execa("docker", ["compose", "version", "--short"], { env });
    expect(upstreamVersion(viaCli.stdout.trim())).toBe(versions.compose);

    const provenance = readProvenance(paths);
    for (const [tool, pin] of [
      ["docker-compose", versions.compose],
      ["docker-buildx", versions.buildx],
    ] as const) {
      const record = provenance[tool];
      expect(record?.source).toBe("debian-archive");
      expect(record?.signature).toMatchObject({
        verified: true,
        by: expect.stringMatching(/Debian Archive Automatic Signing Key/),
      });
      expect(record?.checksumSource).toMatch(
        /\/dists\/\w+\/InRelease → main\/binary-amd64\/Packages\.(xz|gz)$/,
      );
      expect(matchesPin(record?.archive?.version ?? "", pin)).toBe(true);
    }
  });
});
