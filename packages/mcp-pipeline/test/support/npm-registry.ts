import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { freePort } from "../../src/ci/docker/free-port.js";
import { PACKAGE_ROOT } from "../paths.js";

const VERDACCIO_VERSION = "6.10.4";

/** A real npm registry on loopback (Verdaccio), with the public registry as its uplink. */
export interface NpmRegistry {
  url: string;
  /** npm flags that point at it, with a token Verdaccio accepts for publishing. */
  flags: string[];
  stop(): Promise<void>;
}

/** Starts Verdaccio with empty storage; `mcp-pipeline` is published there, everything else proxied. */
export async function startNpmRegistry(): Promise<NpmRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "npm-registry-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const config = join(dir, "verdaccio.yaml");
  writeFileSync(
    config,
    [
      `storage: ${join(dir, "storage")}`,
      "uplinks:",
      "  npmjs: { url: https://registry.npmjs.org/, timeout: 120s }",
      "packages:",
      '  "mcp-pipeline": { access: $all, publish: $all }',
      '  "**": { access: $all, proxy: npmjs }',
      "log: { type: stdout, format: pretty, level: warn }",
      "",
    ].join("\n"),
  );
  // Run through npx at a pinned version rather than installed beside the app: as a devDependency
  // its tree (sshpk) breaks `npm ci` in the app's image build on the npm that image ships.
  const server: ResultPromise = execa(
    "npx",
    [
      "--yes",
      "--package",
      `verdaccio@${VERDACCIO_VERSION}`,
      "--",
      "verdaccio",
      "--config",
      config,
      "--listen",
      `127.0.0.1:${port}`,
    ],
    // Its own process group: npx starts Verdaccio as a child, and stopping must reach both.
    { reject: false, all: true, detached: true },
  );
  const stop = async () => {
    if (server.pid !== undefined) {
      try {
        process.kill(-server.pid, "SIGTERM");
      } catch {
        // Already gone.
      }
    }
    await server;
    rmSync(dir, { recursive: true, force: true });
  };
  // The first start on a machine also fetches Verdaccio itself.
  const deadline = Date.now() + 240_000;
  for (;;) {
    const ok = await fetch(`${url}-/ping`).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `Verdaccio did not answer within 240 s:\n${(await server).all?.slice(-2000)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return {
    url,
    flags: [
      `--registry=${url}`,
      `--//127.0.0.1:${port}/:_authToken=test-token`,
      "--no-audit",
      "--no-fund",
    ],
    stop,
  };
}

/** Publishes this repository's mcp-pipeline (built by its `prepare`) to `registry`. */
export async function publishPackage(registry: NpmRegistry): Promise<void> {
  const res = await execa("npm", ["publish", ...registry.flags], {
    cwd: PACKAGE_ROOT,
    all: true,
    reject: false,
  });
  if (res.exitCode !== 0) throw new Error(`npm publish failed:\n${res.all}`);
}
