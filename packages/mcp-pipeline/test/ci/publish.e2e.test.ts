import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageConfig, MANIFEST_ACCEPT } from "../../src/host/registry-api.js";
import { auth, contextVariant, runPipeline, skipAllBut } from "./pipeline-harness.js";
import { startTokenRegistry, type TokenRegistry } from "./support/token-registry.js";

/** The Dockerfile's HEALTHCHECK as Docker's image config spells it (durations in ns). */
const DECLARED = {
  Test: ["CMD", "/usr/local/bin/node", "/app/healthcheck.mjs"],
  Interval: 10_000_000_000,
  Timeout: 3_000_000_000,
  StartPeriod: 10_000_000_000,
  StartInterval: 1_000_000_000,
  Retries: 3,
};

describe("publish goes through Dagger alone", () => {
  let registry: TokenRegistry;
  beforeAll(async () => {
    registry = await startTokenRegistry();
  });
  afterAll(() => registry?.close());

  it("publishes to a token-auth registry that answers like GHCR, with the HEALTHCHECK and only Dagger's writes", async () => {
    // One platform, so one manifest PUT per tag; multiplatform.e2e.test.ts covers the index.
    const run = await runPipeline(
      [...skipAllBut(), "--username", registry.username],
      { REGISTRY_PASSWORD: registry.password, PIPELINE_PLATFORMS: "linux/amd64" },
      registry.address,
    );
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    expect(run.output).not.toContain(registry.password);
    const digest = run.report.image.digest;
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(run.report.published).toHaveLength(2);
    for (const ref of run.report.published) expect(ref).toMatch(new RegExp(`@${digest}$`));

    // Exactly one manifest PUT per tag, all from the engine; nothing rewrote the config after.
    const name = run.repository.slice(registry.address.length + 1);
    const puts = registry.requests.filter(
      (r) => r.method === "PUT" && r.path.includes("/manifests/"),
    );
    expect(puts.map((p) => p.path.split("/manifests/")[1]).sort()).toEqual(
      run.report.published.map((ref) => ref.split("@")[0]?.split(":").at(-1)).sort(),
    );
    for (const p of puts) {
      expect(p.status).toBe(201);
      expect(p.userAgent).not.toMatch(/node|undici/i);
    }

    const token = registry.pullToken(name);
    const get = async (path: string, accept = MANIFEST_ACCEPT) => {
      const res = await fetch(`http://${registry.address}/v2/${name}/${path}`, {
        headers: { Authorization: `Bearer ${token}`, Accept: accept },
      });
      expect(res.status, path).toBe(200);
      return (await res.json()) as Record<string, unknown>;
    };
    const manifest = (await get(`manifests/${digest}`)) as { config: { digest: string } };
    const config = (await get(`blobs/${manifest.config.digest}`, "*/*")) as {
      config: { Healthcheck?: unknown; User?: string };
    };
    expect(config.config.Healthcheck).toEqual(DECLARED);
    expect(config.config.User).toBe("1000:1000");
  });

  it("exits 2 naming the credentials when the token endpoint refuses them, printing no password", async () => {
    const wrong = "not-the-token-password-5d1c";
    const run = await runPipeline(
      [...skipAllBut(), "--username", registry.username],
      { REGISTRY_PASSWORD: wrong },
      registry.address,
    );
    expect(run.exitCode, run.output.slice(-3000)).toBe(2);
    expect(run.output).toMatch(/REGISTRY_PASSWORD/);
    expect(run.output).not.toContain(wrong);
    expect(run.report.published).toEqual([]);
  });

  it("publishes exactly the HEALTHCHECK flags declared: without --start-interval, none", async () => {
    const variant = contextVariant("no-start-interval", (t) =>
      t.replace(
        'HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --start-interval=1s --retries=3 \\\n  CMD ["/usr/local/bin/node", "/app/healthcheck.mjs"]',
        'HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \\\n  CMD ["/usr/local/bin/node", "/app/healthcheck.mjs"]',
      ),
    );
    const run = await runPipeline([...variant, ...skipAllBut()]);
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    const name = run.repository.slice((auth?.address.length ?? 0) + 1);
    // The first tag the ref gets: edge on the default branch, the branch's name elsewhere.
    const tag = run.report.published[0]?.slice(run.repository.length + 1).split("@")[0] ?? "";
    const config = await imageConfig(auth?.address ?? "", name, tag, auth);
    const { StartInterval: _, ...withoutStartInterval } = DECLARED;
    expect(config.config?.Healthcheck).toEqual(withoutStartInterval);
  });
});
