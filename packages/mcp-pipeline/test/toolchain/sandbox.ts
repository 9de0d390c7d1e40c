import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { portOwner } from "../../src/toolchain/ports.js";
import { toolchainPaths } from "../../src/toolchain/settings.js";
import { readRegistries } from "../../src/toolchain/state.js";
import { versions } from "../../src/toolchain/versions.js";
import { paths as realPaths, runEntry, withoutGitHubContext } from "./helpers.js";

/** Variables a sandbox never inherits: they would point it at the machine's own toolchain. */
const INHERITED_NOT = [
  "MCP_PIPELINE_CACHE",
  "MCP_PIPELINE_BIN",
  "MCP_PIPELINE_MIRROR_PORT",
  "MCP_PIPELINE_AUTH_PORT",
  "DOWNLOAD_MIRROR",
  "DOWNLOAD_MIRROR_COSIGN_KEY",
  "AIRGAP",
  "XDG_CONFIG_HOME",
  "DOCKER_CONFIG",
  "_EXPERIMENTAL_DAGGER_RUNNER_HOST",
];

/**
 * A toolchain of its own for one test: a fresh `MCP_PIPELINE_CACHE`, its own
 * Dagger engine config dir and Docker CLI config dir, and its own engine
 * container name (`cleanup=false`, so the CLI never removes other engines on
 * this machine). Shares the machine's Docker daemon and images, and never
 * touches the machine's registries on 5000/5001 or its engine container.
 */
export class Sandbox {
  readonly root: string;
  readonly env: NodeJS.ProcessEnv;
  readonly paths: ReturnType<typeof toolchainPaths>;
  readonly engineContainer: string;

  constructor(name: string, extraEnv: NodeJS.ProcessEnv = {}) {
    this.root = mkdtempSync(join(tmpdir(), `toolchain-${name}-`));
    this.engineContainer = `toolchain-test-engine-${randomBytes(4).toString("hex")}`;
    const base = Object.fromEntries(
      Object.entries(withoutGitHubContext(process.env)).filter(([k]) => !INHERITED_NOT.includes(k)),
    );
    // The machine's toolchain must not answer for a tool this sandbox lacks.
    const path = (base.PATH ?? "")
      .split(":")
      .filter((d) => d && d !== realPaths.bin)
      .join(":");
    this.env = {
      ...base,
      PATH: path,
      MCP_PIPELINE_CACHE: join(this.root, "cache"),
      XDG_CONFIG_HOME: join(this.root, "config"),
      DOCKER_CONFIG: join(this.root, "docker"),
      _EXPERIMENTAL_DAGGER_RUNNER_HOST: `docker-image://registry.dagger.io/engine:v${versions.dagger}?container=${this.engineContainer}&cleanup=false`,
      DAGGER_LEAVE_OLD_ENGINE: "1",
      ...extraEnv,
    };
    mkdirSync(join(this.root, "docker"), { recursive: true });
    this.paths = toolchainPaths(this.env);
  }

  /** Runs `npm run <args>` (through the bootstrap entry) in this sandbox. */
  entry(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
    return runEntry(args, { ...this.env, ...extraEnv }, { clean: true });
  }

  /** Links the machine's built tools into this sandbox's bin/, so tool steps find them done. */
  linkTools(tools: string[]): void {
    mkdirSync(this.paths.bin, { recursive: true });
    for (const tool of tools) symlinkSync(join(realPaths.bin, tool), join(this.paths.bin, tool));
  }

  /** The tools in this sandbox's bin/. */
  installedTools(): string[] {
    return existsSync(this.paths.bin)
      ? readdirSync(this.paths.bin).filter((f) => !f.startsWith("."))
      : [];
  }

  /** Stops the registries this sandbox's setup started (by pid), its engine container, and deletes it. */
  async cleanup(): Promise<void> {
    for (const pid of registryPidsOf(this.paths.root)) {
      try {
        process.kill(pid);
      } catch {
        // Already gone.
      }
    }
    for (const endpoint of Object.values(readRegistriesSafe(this.paths))) {
      const owner = endpoint ? portOwner(endpoint.port) : undefined;
      if (owner?.command.includes(this.paths.root)) process.kill(owner.pid);
    }
    await execa("docker", ["rm", "-fv", this.engineContainer], { reject: false });
    rmSync(this.root, { recursive: true, force: true });
  }
}

function readRegistriesSafe(paths: ReturnType<typeof toolchainPaths>) {
  try {
    return readRegistries(paths);
  } catch {
    return {};
  }
}

/** Pids of docker-registry processes serving a config under `root` (ones a sandbox's setup started). */
export function registryPidsOf(root: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (cmd[0]?.endsWith("docker-registry") && cmd[1] === "serve" && cmd[2]?.startsWith(root))
        pids.push(Number(entry));
    } catch {
      // Exited meanwhile.
    }
  }
  return pids;
}
