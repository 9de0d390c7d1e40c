import { currentEngine } from "../versions.js";

/** Which engine setup installs where a machine has none (`MCP_PIPELINE_ENGINE`). */
export type EngineRequest = "debian" | "current";

/** What setup found on the machine. */
export interface EngineFacts {
  requested: EngineRequest;
  /** The server version of the engine answering on the Docker socket, if one answers. */
  running: string | undefined;
  /** The version of the machine's own installed dockerd (`dockerd --version`), if there is one. */
  installed: string | undefined;
}

/** What setup does about the engine. */
export type EngineChoice =
  /** An engine answers: use it (a warning when it is out of support). */
  | { kind: "keep"; version: string; warning?: string }
  /** The machine's dockerd is installed but not running: start it. */
  | { kind: "start-installed"; version: string; warning?: string }
  /** No engine: install the distribution's docker.io with apt (the default today). */
  | { kind: "install-debian" }
  /** No engine: install the current engine from Debian's signed archive into the cache. */
  | { kind: "install-current" }
  /** An engine too old for what was asked: stop, saying what to do. */
  | { kind: "refuse"; message: string; hint: string };

/** The major version of a Docker version string (`20.10.24+dfsg1` → 20), or undefined. */
export function dockerMajor(version: string): number | undefined {
  const major = /^v?(\d+)\.\d+/.exec(version.trim())?.[1];
  return major === undefined ? undefined : Number(major);
}

/** The version `dockerd --version` prints (`Docker version 20.10.24+dfsg1, build 5d6db84`). */
export function parseDockerdVersion(output: string): string | undefined {
  return /Docker version (\S+?),? /.exec(output)?.[1] ?? /Docker version (\S+)/.exec(output)?.[1];
}

const oldest = currentEngine.oldestKept;

function outOfSupport(version: string): string {
  return `Docker ${version} is older than ${oldest} (out of support, and it ignores HEALTHCHECK --start-interval); MCP_PIPELINE_ENGINE=current installs Docker ${currentEngine.docker} on a machine without an engine (docs/toolchain.md)`;
}

function refuseOld(version: string, how: "runs" | "is installed"): EngineChoice {
  return {
    kind: "refuse",
    message: `MCP_PIPELINE_ENGINE=current asks for Docker ≥ ${oldest}, but Docker ${version} ${how === "runs" ? "runs" : "is installed"} here, and setup does not replace a machine's engine.`,
    hint: `Upgrade it to Docker ≥ ${oldest} (https://docs.docker.com/engine/install/), or remove it (\`apt-get remove docker.io\`, after stopping it) and run setup again to get Docker ${currentEngine.docker} in the toolchain cache, or unset MCP_PIPELINE_ENGINE to keep using Docker ${version}.`,
  };
}

/**
 * Decides what setup does about the Docker engine. A machine's own engine at Docker ≥ 25 is
 * always kept. With nothing installed, setup installs the distribution's docker.io (the default)
 * or, when asked (`MCP_PIPELINE_ENGINE=current`), the current engine into the toolchain cache.
 * An older engine is kept by default with a warning, and refused when the current one was asked
 * for: setup never replaces an engine someone else installed.
 */
export function chooseEngine(facts: EngineFacts): EngineChoice {
  const { requested, running, installed } = facts;
  if (running !== undefined) {
    const major = dockerMajor(running);
    if (major === undefined || major >= oldest) return { kind: "keep", version: running };
    if (requested === "current") return refuseOld(running, "runs");
    return { kind: "keep", version: running, warning: outOfSupport(running) };
  }
  if (installed !== undefined) {
    const major = dockerMajor(installed);
    if (major === undefined || major >= oldest)
      return { kind: "start-installed", version: installed };
    if (requested === "current") return refuseOld(installed, "is installed");
    return { kind: "start-installed", version: installed, warning: outOfSupport(installed) };
  }
  return requested === "current" ? { kind: "install-current" } : { kind: "install-debian" };
}
