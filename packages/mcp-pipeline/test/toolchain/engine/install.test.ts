import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ToolchainError, ToolchainErrorCode } from "../../../src/host/errors.js";
import {
  engineBinaries,
  installCurrentEngine,
  installEngineArchivePart,
  installRunc,
} from "../../../src/toolchain/engine/install.js";
import { toolchainEnv } from "../../../src/toolchain/env.js";
import { engineBinDir, loadSettings, toolchainPaths } from "../../../src/toolchain/settings.js";
import { readProvenance } from "../../../src/toolchain/state.js";
import { currentEngine, enginePackages } from "../../../src/toolchain/versions.js";
import { FakeArchive } from "../debian-archive/fake-archive.js";

const archive = new FakeArchive();
beforeAll(() => archive.start(), 60_000);
afterAll(() => archive.stop());

/** What each packaged binary prints for its version (Debian's builds, as they say it). */
const SAYS: Record<string, string> = {
  dockerd: "Docker version 28.5.2+dfsg4, build 3ef3c07c",
  "docker-proxy": "docker-proxy (commit 3ef3c07c) version 28.5.2+dfsg4",
  docker: "Docker version 28.5.2+dfsg4, build 9cc6dea3",
  containerd: "containerd github.com/containerd/containerd/v2 2.1.9+unknown",
  "containerd-shim-runc-v2": "containerd-shim-runc-v2:\n  Version:  2.1.9+unknown",
  ctr: "ctr github.com/containerd/containerd/v2 2.1.9+unknown",
  "docker-init": "tini version 0.19.0",
};
const DEBIAN_VERSIONS: Record<string, string> = {
  "docker.io": "28.5.2+dfsg4-5",
  "docker-cli": "28.5.2+dfsg4-5",
  containerd: "2.1.9+ds1-5",
  "tini-static": "0.19.0-6+b2",
};

type Publish = Parameters<FakeArchive["publishPackages"]>[1][number];

/** sid as Debian publishes the engine's packages, with `change` applied to each. */
function publishEngine(change: (p: Publish) => Publish | undefined = (p) => p) {
  const pkgs = enginePackages
    .map((p) =>
      change({
        pkg: p.package,
        version: DEBIAN_VERSIONS[p.package] ?? "0",
        files: p.binaries.map((b) => ({ member: b.member, says: SAYS[b.name] ?? "" })),
      }),
    )
    .filter((p): p is Publish => p !== undefined);
  return archive.publishPackages("sid", pkgs);
}

let root: string;
let env: NodeJS.ProcessEnv;
const context = (overrides: NodeJS.ProcessEnv = {}) => {
  const e = { ...env, ...overrides };
  return {
    paths: toolchainPaths(e),
    settings: loadSettings(e),
    env: e,
    logFile: join(root, "log"),
    note: () => {},
  };
};
beforeEach(() => {
  archive.requests.length = 0;
  root = mkdtempSync(join(tmpdir(), "engine-install-test-"));
  env = { ...process.env, MCP_PIPELINE_CACHE: join(root, "cache"), DEBIAN_MIRROR: archive.url };
  delete env.MCP_PIPELINE_BIN;
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function failure(promise: Promise<unknown>): Promise<ToolchainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ToolchainError);
  const e = error as ToolchainError;
  // What the user reads: the message and the hint, never a stack trace.
  expect(`${e.message}\n${e.hint}`).not.toMatch(/\n\s+at /);
  return e;
}

const binDir = () => engineBinDir(toolchainPaths(env));
const installed = () => (existsSync(binDir()) ? readdirSync(binDir()).sort() : []);

describe("the current engine from Debian's archive", () => {
  it("installs every binary of the engine's packages into engine/<version>/bin, each with its provenance", async () => {
    publishEngine();
    const ctx = context();
    await installEngineArchivePart(ctx, { keyring: archive.keyring });
    expect(binDir()).toBe(join(root, "cache", "engine", currentEngine.docker, "bin"));
    expect(installed()).toEqual([
      "containerd",
      "containerd-shim-runc-v2",
      "ctr",
      "docker",
      "docker-init",
      "docker-proxy",
      "dockerd",
    ]);
    // The machine's bin/ is not where they go.
    expect(existsSync(join(ctx.paths.bin, "dockerd"))).toBe(false);
    const provenance = readProvenance(ctx.paths);
    expect(provenance.dockerd).toMatchObject({
      source: "debian-archive",
      asset: "docker.io_28.5.2+dfsg4-5_amd64.deb",
      archive: { suite: "sid", package: "docker.io", version: "28.5.2+dfsg4-5" },
      signature: { verified: true },
    });
    expect(provenance["docker-init"]?.archive?.package).toBe("tini-static");
    expect(provenance.ctr?.archive?.package).toBe("containerd");
    // Its Docker CLI is on the toolchain's PATH, after the machine's own.
    expect(toolchainEnv(ctx.paths, { PATH: "/usr/bin" }).PATH?.split(":").at(-1)).toBe(binDir());
    // Each index is fetched once for all four packages.
    expect(archive.requests.filter((r) => r.endsWith("/Packages.xz"))).toHaveLength(1);
  });

  it("stops naming the package when the index lacks one, installing none of the others", async () => {
    publishEngine((p) => (p.pkg === "docker-cli" ? undefined : p));
    const error = await failure(installEngineArchivePart(context(), { keyring: archive.keyring }));
    expect(error.code).toBe(ToolchainErrorCode.Unsupported);
    expect(error.message).toBe(
      `Docker 28.5.2 (containerd 2.1.9) was not installed from Debian's archive: Debian's archive has no usable docker-cli 28.5.2 (sid: no such package; forky: ${archive.url}/dists/forky/InRelease: GET ${archive.url}/dists/forky/InRelease answered 404). Nothing was installed.`,
    );
    expect(error.hint).toMatch(/Install Docker ≥ 25 yourself/);
    expect(installed()).toEqual([]);
    // Nothing was downloaded for the packages that were there.
    expect(archive.requests.filter((r) => r.endsWith(".deb"))).toEqual([]);
  });

  it("stops naming the version the index has when it is not the pin", async () => {
    publishEngine((p) => (p.pkg === "containerd" ? { ...p, version: "2.1.8~ds1-1" } : p));
    const error = await failure(installEngineArchivePart(context(), { keyring: archive.keyring }));
    expect(error.message).toContain("no usable containerd 2.1.9 (sid: 2.1.8~ds1-1;");
    expect(installed()).toEqual([]);
  });

  it("stops without downloading a package whose Depends asks for a newer glibc than the machine's", async () => {
    publishEngine((p) => (p.pkg === "docker.io" ? { ...p, depends: "libc6 (>= 2.38)" } : p));
    const error = await failure(
      installEngineArchivePart(context(), { keyring: archive.keyring, glibc: "2.36" }),
    );
    expect(error.message).toContain(
      "no usable docker.io 28.5.2 (sid: docker.io 28.5.2+dfsg4-5 needs glibc ≥ 2.38, this machine has 2.36;",
    );
    expect(installed()).toEqual([]);
  });

  it("stops when a packaged binary needs a newer glibc than the machine has, though Depends did not say so", async () => {
    const elf = readFileSync("/usr/bin/true");
    // No package says which glibc it needs, so only the ELF check can tell.
    publishEngine((p) => ({
      ...p,
      depends: "libc6",
      files: p.files.map((f) => (f.member.endsWith("/dockerd") ? { ...f, binary: elf } : f)),
    }));
    const error = await failure(
      installEngineArchivePart(context(), { keyring: archive.keyring, glibc: "2.1" }),
    );
    expect(error.message).toMatch(
      /was not installed from Debian's archive: dockerd from docker\.io_28\.5\.2\+dfsg4-5_amd64\.deb needs glibc 2\.\d+, this machine has 2\.1\. Nothing was installed\.$/,
    );
    expect(installed()).toEqual([]);
  });

  it("stops naming the file when a package no longer has a binary where the pin expects it", async () => {
    publishEngine((p) =>
      p.pkg === "containerd"
        ? { ...p, files: p.files.filter((f) => !f.member.endsWith("/ctr")) }
        : p,
    );
    const error = await failure(installEngineArchivePart(context(), { keyring: archive.keyring }));
    expect(error.message).toContain(
      "containerd_2.1.9+ds1-5_amd64.deb has no file at /usr/bin/ctr (Debian's packaging changed)",
    );
    expect(installed()).toEqual([]);
  });

  it("stops with an integrity error naming the .deb when it is not what the signed index lists", async () => {
    const { debPaths } = publishEngine();
    const tini = debPaths.find((p) => p.includes("tini-static"));
    if (!tini) throw new Error("no tini-static in the fake archive");
    archive.serve(tini, Buffer.from("not the package"));
    const error = await failure(installEngineArchivePart(context(), { keyring: archive.keyring }));
    expect(error.code).toBe(ToolchainErrorCode.Integrity);
    expect(error.message).toMatch(/^tini-static_0\.19\.0-6\+b2_amd64\.deb: sha256 mismatch/);
    expect(installed()).toEqual([]);
  });

  it("refuses to look at the archive when DEBIAN_MIRROR=off", async () => {
    const error = await failure(
      installEngineArchivePart(context({ DEBIAN_MIRROR: "off" }), { keyring: archive.keyring }),
    );
    expect(error.code).toBe(ToolchainErrorCode.BadSetting);
    expect(error.message).toBe(
      "Docker 28.5.2 (containerd 2.1.9) comes from Debian's archive, and DEBIAN_MIRROR=off forbids it.",
    );
    expect(archive.requests).toEqual([]);
  });
});

describe("runc built from the Go module proxy", () => {
  /** A directory of stand-ins for the machine's build tools, first on PATH. */
  function tools(present: { pkgConfig: boolean; gcc: boolean }): string {
    const dir = join(root, "tools");
    mkdirSync(dir, { recursive: true });
    const script = (name: string, body: string) => {
      writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(dir, name), 0o755);
    };
    if (present.pkgConfig) script("pkg-config", "exit 0");
    if (present.gcc) script("gcc", "exit 0");
    return dir;
  }

  it("stops naming what the cgo build lacks, when it may not install it", async () => {
    // Only the stand-ins on PATH: no gcc, no pkg-config.
    const ctx = context({ PATH: tools({ pkgConfig: false, gcc: false }) });
    const error = await failure(installRunc(ctx, false));
    expect(error.code).toBe(ToolchainErrorCode.Unsupported);
    expect(error.message).toBe(
      `runc ${currentEngine.runc} is built with cgo and seccomp, and this machine lacks gcc, pkg-config.`,
    );
    expect(existsSync(join(binDir(), "runc"))).toBe(false);
  });

  it("stops with go's own words when the build fails, and installs nothing", async () => {
    const ctx = context({
      PATH: `${tools({ pkgConfig: true, gcc: true })}:${process.env.PATH ?? ""}`,
      // The build must fail at once: no module proxy, an empty module cache.
      GOPROXY: "off",
      GOMODCACHE: join(root, "gomod"),
    });
    const error = await failure(installRunc(ctx, false));
    expect(error.code).toBe(ToolchainErrorCode.CommandFailed);
    expect(error.message).toMatch(
      new RegExp(
        `^runc ${currentEngine.runc.replaceAll(".", "\\.")} did not build from the Go module proxy:\\n.*GOPROXY=off`,
        "s",
      ),
    );
    expect(error.hint).toMatch(/^Full log: .*log\. The build needs GOPROXY/);
    expect(existsSync(join(binDir(), "runc"))).toBe(false);
  });
});

describe("what dockerd needs from the machine", () => {
  it("stops naming iptables when the machine lacks it and setup may not install it, and passes once it is there", async () => {
    // The engine already in the cache (every binary saying its pinned version): only iptables is left.
    const bin = binDir();
    mkdirSync(bin, { recursive: true });
    for (const b of engineBinaries()) {
      const says = b.name === "runc" ? `runc version ${b.version}` : `${b.name} ${b.version}`;
      writeFileSync(join(bin, b.name), `#!/bin/sh\necho "${says}"\n`);
      chmodSync(join(bin, b.name), 0o755);
    }
    const tools = join(root, "tools");
    mkdirSync(tools);
    const error = await failure(
      installCurrentEngine(context({ PATH: `${tools}:/usr/bin:/bin` }), { canApt: false }),
    );
    expect(error.message).toBe("Docker 28.5.2 needs iptables, and this machine has none.");
    expect(error.hint).toMatch(/Install iptables/);
    // The control: with an iptables on PATH there is nothing left to do.
    writeFileSync(join(tools, "iptables"), "#!/bin/sh\nexit 0\n");
    chmodSync(join(tools, "iptables"), 0o755);
    await installCurrentEngine(context({ PATH: `${tools}:/usr/bin:/bin` }), { canApt: false });
    expect(archive.requests).toEqual([]);
  });
});
