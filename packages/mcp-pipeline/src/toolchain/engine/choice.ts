import { currentEngine } from "../versions.js";

/** What setup found on the machine. */
export interface EngineFacts {
  /** The server version of the engine answering on the Docker socket, if one answers. */
  running: string | undefined;
  /** The version of the machine's own installed dockerd (`dockerd --version`), if there is one. */
  installed: string | undefined;
  /** Whether setup itself installed the machine's dockerd (Debian's docker.io, by an older setup). */
  installedBySetup: boolean;
}

/** What setup does about the engine. */
export type EngineChoice =
  /** A supported engine answers: use it. */
  | { kind: "keep"; version: string }
  /** The machine's supported dockerd is installed but not running: start it. */
  | { kind: "start-installed"; version: string }
  /** No engine: install the current engine from Debian's signed archive into the cache. */
  | { kind: "install-current" }
  /**
   * The engine an older setup installed (Debian 12's docker.io 20.10) is out of support:
   * stop it if it runs, remove the package, and install and start the current engine in its place.
   */
  | { kind: "upgrade"; from: string; stop: boolean }
  /** An engine too old that setup did not install: stop, saying what to do. */
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

/** True for a version the pipeline supports (an unparsable one gets the benefit of the doubt). */
export function supportedEngine(version: string): boolean {
  const major = dockerMajor(version);
  return major === undefined || major >= oldest;
}

function refuseOld(version: string, how: "runs" | "is installed"): EngineChoice {
  return {
    kind: "refuse",
    message: `Docker ${version} ${how} here; the pipeline needs Docker ≥ ${oldest} (older engines are out of support and ignore HEALTHCHECK --start-interval), and setup does not replace an engine it did not install.`,
    hint: `Upgrade it to Docker ≥ ${oldest} (https://docs.docker.com/engine/install/), or stop and remove it (\`apt-get remove docker.io\` where Debian's package installed it) and run setup again: it installs Docker ${currentEngine.docker} into the toolchain cache.`,
  };
}

/**
 * Decides what setup does about the Docker engine. A machine's own engine at Docker ≥ 25 is
 * always kept (started if it is installed and stopped). With none, setup installs the current
 * engine into the toolchain cache. An older engine that setup installed (Debian 12's docker.io,
 * which setups before Docker 28 installed) is upgraded in place; one someone else installed is
 * refused with what to do: setup never replaces an engine it did not install.
 */
export function chooseEngine(facts: EngineFacts): EngineChoice {
  const { running, installed, installedBySetup } = facts;
  if (running !== undefined) {
    if (supportedEngine(running)) return { kind: "keep", version: running };
    // An old engine answering while the machine's dockerd is not setup's: someone else's.
    if (installedBySetup) return { kind: "upgrade", from: running, stop: true };
    return refuseOld(running, "runs");
  }
  if (installed !== undefined) {
    if (supportedEngine(installed)) return { kind: "start-installed", version: installed };
    if (installedBySetup) return { kind: "upgrade", from: installed, stop: false };
    return refuseOld(installed, "is installed");
  }
  return { kind: "install-current" };
}
