import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { release as cutRelease } from "../../../src/ci/release/release.js";
import { nextVersion, ReleaseRefusedError, releaseTag } from "../../../src/ci/release/version.js";

describe("nextVersion", () => {
  it("bumps patch, minor and major the semver way", () => {
    expect(nextVersion("1.2.3", "patch")).toBe("1.2.4");
    expect(nextVersion("1.2.3", "minor")).toBe("1.3.0");
    expect(nextVersion("1.2.3", "major")).toBe("2.0.0");
  });

  it("finishes a pre-release on a patch bump", () => {
    expect(nextVersion("1.3.0-rc.1", "patch")).toBe("1.3.0");
  });

  it("takes an explicit greater version, with or without a v", () => {
    expect(nextVersion("1.2.3", "1.4.0")).toBe("1.4.0");
    expect(nextVersion("1.2.3", "v2.0.0-rc.1")).toBe("2.0.0-rc.1");
  });

  it.each(["1.2", "banana", "1.2.3.4", "v", "", "01.2.3", "latest"])(
    "refuses %j as not a version",
    (request) => {
      expect(() => nextVersion("1.2.3", request)).toThrow(ReleaseRefusedError);
      expect(() => nextVersion("1.2.3", request)).toThrow(/is not a (semver )?version/);
    },
  );

  it("refuses a version that is not greater than the current one", () => {
    expect(() => nextVersion("1.2.3", "1.2.3")).toThrow(/not greater than the current version/);
    expect(() => nextVersion("1.2.3", "1.0.0")).toThrow(/not greater than the current version/);
  });

  it("refuses build metadata because an image tag cannot hold a plus sign", () => {
    expect(() => nextVersion("1.2.3", "1.2.4+build.5")).toThrow(/build metadata/);
  });

  it("refuses when package.json's own version is not semver", () => {
    expect(() => nextVersion("one", "patch")).toThrow(/package.json has version "one"/);
  });

  it("names the tag with a v, as release.yml's v*.*.* trigger expects", () => {
    expect(releaseTag("1.2.4")).toBe("v1.2.4");
  });
});

describe("mcp-pipeline release", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** An environment free of the caller's git config, GitHub variables and branch overrides. */
  function isolatedEnv(home: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (!/^(GIT_|GITHUB_|PIPELINE_)/.test(key)) env[key] = value;
    }
    const gitconfig = join(home, "gitconfig");
    writeFileSync(
      gitconfig,
      "[user]\n\tname = Release Test\n\temail = release@example.test\n[commit]\n\tgpgSign = false\n[tag]\n\tgpgSign = false\n[init]\n\tdefaultBranch = main\n",
    );
    return { ...env, GIT_CONFIG_GLOBAL: gitconfig, GIT_CONFIG_NOSYSTEM: "1" };
  }

  /**
   * A repository at version 1.2.3 on `main`, with a lockfile. The pipeline's verify stage is
   * stood in for: it records that it ran and exits with $FAKE_PIPELINE_EXIT.
   */
  async function makeRepo() {
    const home = mkdtempSync(join(tmpdir(), "release-test-"));
    dirs.push(home);
    const repo = join(home, "repo");
    const env = isolatedEnv(home);
    const sh = (cmd: string, args: string[]) => execa(cmd, args, { cwd: repo, env });
    await execa("git", ["init", "-q", "-b", "main", repo], { env });
    const pkg = {
      name: "release-fixture",
      version: "1.2.3",
      private: true,
    };
    writeFileSync(join(repo, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
    const lock = {
      name: pkg.name,
      version: pkg.version,
      lockfileVersion: 3,
      requires: true,
      packages: { "": { name: pkg.name, version: pkg.version } },
    };
    writeFileSync(join(repo, "package-lock.json"), `${JSON.stringify(lock, null, 2)}\n`);
    writeFileSync(join(repo, ".gitignore"), "pipeline-report/\n");
    await sh("git", ["add", "."]);
    await sh("git", ["commit", "-q", "-m", "initial"]);
    const release = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
      const out: string[] = [];
      const err: string[] = [];
      const exitCode = await cutRelease(["node", "release", ...args], {
        cwd: repo,
        env: { ...env, ...extraEnv },
        runPipeline: async (cwd, runEnv) => {
          out.push(`fake-pipeline: verify in ${cwd}\n`);
          return Number(runEnv.FAKE_PIPELINE_EXIT ?? 0);
        },
        out: (text) => out.push(text),
        err: (text) => err.push(text),
      });
      return { exitCode, stdout: out.join(""), stderr: err.join("") };
    };
    const git = async (args: string[]) => String((await sh("git", args)).stdout).trim();
    return { repo, release, git };
  }

  it("bumps a patch release, commits it and creates the annotated tag v1.2.4", async () => {
    const { repo, release, git } = await makeRepo();
    const res = await release(["patch", "--skip-pipeline"]);
    expect(res.stderr).toContain("1.2.3 → 1.2.4 on main");
    expect(res.exitCode, res.stderr).toBe(0);
    expect(await git(["cat-file", "-t", "v1.2.4"])).toBe("tag");
    expect(await git(["tag", "-l", "--format=%(contents:subject)", "v1.2.4"])).toBe(
      "Release v1.2.4",
    );
    expect(await git(["log", "-1", "--format=%s", "v1.2.4^{commit}"])).toBe("release: v1.2.4");
    expect(await git(["rev-parse", "v1.2.4^{commit}"])).toBe(await git(["rev-parse", "main"]));
    expect(JSON.parse(await git(["show", "v1.2.4:package.json"])).version).toBe("1.2.4");
    const lock = JSON.parse(await git(["show", "v1.2.4:package-lock.json"]));
    expect([lock.version, lock.packages[""].version]).toEqual(["1.2.4", "1.2.4"]);
    expect(await git(["status", "--porcelain"])).toBe("");
    expect(JSON.parse(readFileSync(join(repo, "package.json"), "utf8")).version).toBe("1.2.4");
    expect(res.stdout).toContain("git push --atomic origin main v1.2.4");
  });

  it("bumps server.json's version and its OCI identifier's tag with the release", async () => {
    const { repo, release, git } = await makeRepo();
    const server = {
      name: "io.github.o/r",
      version: "1.2.3",
      packages: [
        { registryType: "oci", identifier: "ghcr.io/o/r:1.2.3", transport: { type: "stdio" } },
        { registryType: "oci", identifier: "ghcr.io/o/r:stable", transport: { type: "stdio" } },
      ],
    };
    writeFileSync(join(repo, "server.json"), `${JSON.stringify(server, null, 2)}\n`);
    await git(["add", "server.json"]);
    await git(["commit", "-q", "-m", "server.json"]);
    const res = await release(["minor", "--skip-pipeline"]);
    expect(res.exitCode, res.stderr).toBe(0);
    const released = JSON.parse(await git(["show", "v1.3.0:server.json"]));
    expect(released.version).toBe("1.3.0");
    expect(released.packages.map((p: { identifier: string }) => p.identifier)).toEqual([
      "ghcr.io/o/r:1.3.0",
      "ghcr.io/o/r:stable",
    ]);
    expect(await git(["status", "--porcelain"])).toBe("");
  });

  it("tags an explicit version given with a v prefix", async () => {
    const { release, git } = await makeRepo();
    const res = await release(["v2.0.0", "--skip-pipeline"]);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(await git(["tag", "-l"])).toBe("v2.0.0");
  });

  it("refuses a dirty tree, names the dirty files and changes nothing", async () => {
    const { repo, release, git } = await makeRepo();
    writeFileSync(join(repo, "notes.txt"), "draft\n");
    writeFileSync(join(repo, ".gitignore"), "pipeline-report/\nnode_modules/\n");
    const res = await release(["patch", "--skip-pipeline"]);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain("refused: the working tree is not clean");
    expect(res.stderr).toContain("?? notes.txt");
    expect(res.stderr).toContain(" M .gitignore");
    expect(await git(["tag", "-l"])).toBe("");
    expect(await git(["log", "--format=%s"])).toBe("initial");
  });

  it.each(["1.2", "banana"])(
    "refuses the non-semver version %j with a clear message",
    async (version) => {
      const { release, git } = await makeRepo();
      const res = await release([version, "--skip-pipeline"]);
      expect(res.exitCode).toBe(2);
      expect(res.stderr).toContain(
        `refused: "${version}" is not a version: give patch, minor, major, or a version like 1.2.4`,
      );
      expect(await git(["tag", "-l"])).toBe("");
    },
  );

  it("refuses to release from a branch other than the default branch", async () => {
    const { release, git } = await makeRepo();
    await git(["switch", "-q", "-c", "feature"]);
    const res = await release(["patch", "--skip-pipeline"]);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain("releases are cut from main, but the current branch is feature");
    expect(await git(["tag", "-l"])).toBe("");
  });

  it("refuses a tag that already exists", async () => {
    const { release, git } = await makeRepo();
    await git(["tag", "v1.2.4"]);
    const res = await release(["patch", "--skip-pipeline"]);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain("tag v1.2.4 already exists");
    expect(await git(["log", "--format=%s"])).toBe("initial");
  });

  it("runs the pipeline's verify stage before it bumps anything", async () => {
    const { release, git } = await makeRepo();
    const res = await release(["minor"]);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).toContain("fake-pipeline: verify");
    expect(await git(["tag", "-l"])).toBe("v1.3.0");
  });

  it("exits 1 and changes nothing when the pipeline fails", async () => {
    const { release, git } = await makeRepo();
    const res = await release(["patch"], { FAKE_PIPELINE_EXIT: "1" });
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toContain("the pipeline failed");
    expect(await git(["tag", "-l"])).toBe("");
    expect(await git(["status", "--porcelain"])).toBe("");
    expect(await git(["log", "--format=%s"])).toBe("initial");
  });

  it("exits 2 with the usage when no version is given", async () => {
    const { release } = await makeRepo();
    const res = await release([]);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain("missing required argument 'version'");
  });
});
