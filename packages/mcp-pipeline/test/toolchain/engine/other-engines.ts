import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { run } from "../../../src/host/exec.js";
import { goBinary, goInstall } from "../../../src/toolchain/go.js";

/**
 * The oldest engine the pipeline supports (`currentEngine.oldestKept`): the last Docker 25 the Go
 * module proxy serves. Debian's archive has no Docker 25 (bookworm 20.10, trixie 26.1, sid 28.5).
 */
export const OLDEST_ENGINE = {
  version: "25.0.6",
  module: "github.com/docker/docker",
  /** The module zip's hash, as the checksum database has it (`go mod download -json`). */
  sum: "h1:5cPwbwriIcsua2REJe8HqQV+6WlWc1byg2QSXzBxBGg=",
} as const;

/**
 * The newest engine: Docker 29's daemon module as the Go module proxy serves it. Its
 * releases/versions.yaml says the last release it carries is 29.8.0, so the version it reports
 * (set at link time, as upstream's build does) says both.
 */
export const NEWEST_ENGINE = {
  version: "29.8.0-moby.v2.0.0-beta.24",
  module: "github.com/moby/moby/v2",
  moduleVersion: "2.0.0-beta.24",
} as const;

/** The current engine's binaries another dockerd runs with: its containerd, runc, tini, proxy and CLI. */
const BESIDE = [
  "containerd",
  "containerd-shim-runc-v2",
  "runc",
  "docker-init",
  "docker-proxy",
  "docker",
];

/**
 * A bin directory with Docker 25.0.6's `dockerd`, built from the Go module proxy, beside the
 * current engine's other binaries (`currentBin`). The module has no go.mod (`+incompatible`);
 * upstream builds it with `vendor.mod`/`vendor.sum`, which pin every dependency, so those become
 * go.mod/go.sum here. Go checks the module against the checksum database and `OLDEST_ENGINE.sum`
 * is checked again below; each dependency is checked against vendor.sum. About 4 min of 2 cores
 * the first time; Go's build cache makes it seconds after that.
 */
export async function oldestEngineBinDir(
  currentBin: string,
  dir: string,
  env: NodeJS.ProcessEnv,
  logFile: string,
): Promise<string> {
  const go = goBinary(env);
  const goEnv: NodeJS.ProcessEnv = { ...env, GOFLAGS: "-mod=mod", CGO_ENABLED: "1" };
  const ref = `${OLDEST_ENGINE.module}@v${OLDEST_ENGINE.version}+incompatible`;
  const downloaded = JSON.parse(
    await run(go, ["mod", "download", "-json", ref], { env: { ...env, GOFLAGS: "" }, logFile }),
  ) as { Dir: string; Sum: string };
  if (downloaded.Sum !== OLDEST_ENGINE.sum)
    throw new Error(`${ref} downloaded as ${downloaded.Sum}, not ${OLDEST_ENGINE.sum}`);

  const src = join(dir, "src");
  rmSync(src, { recursive: true, force: true });
  cpSync(downloaded.Dir, src, { recursive: true });
  await run("chmod", ["-R", "u+w", src]);
  writeFileSync(join(src, "go.mod"), readFileSync(join(src, "vendor.mod")));
  writeFileSync(join(src, "go.sum"), readFileSync(join(src, "vendor.sum")));
  rmSync(join(src, "vendor"), { recursive: true, force: true });

  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  await run(
    go,
    [
      "build",
      "-trimpath",
      "-tags",
      "seccomp",
      `-ldflags=-s -w -X ${OLDEST_ENGINE.module}/dockerversion.Version=${OLDEST_ENGINE.version}`,
      "-o",
      join(bin, "dockerd"),
      "./cmd/dockerd",
    ],
    { env: goEnv, cwd: src, logFile },
  );
  rmSync(src, { recursive: true, force: true });
  linkBeside(currentBin, bin);
  return bin;
}

/**
 * A bin directory with the newest engine's `dockerd` (`NEWEST_ENGINE`), `go install`ed from the
 * Go module proxy (its go.mod has no replace directives; go checks the module and every
 * dependency against its go.sum and the checksum database), beside the current engine's other
 * binaries. About 5 min of 2 cores the first time.
 */
export async function newestEngineBinDir(
  currentBin: string,
  dir: string,
  env: NodeJS.ProcessEnv,
  logFile: string,
): Promise<string> {
  const bin = join(dir, "bin");
  await goInstall({
    pkg: `${NEWEST_ENGINE.module}/cmd/dockerd`,
    version: NEWEST_ENGINE.moduleVersion,
    gobin: bin,
    tags: ["seccomp"],
    ldflags: `-X ${NEWEST_ENGINE.module}/dockerversion.Version=${NEWEST_ENGINE.version}`,
    cgo: true,
    env,
    logFile,
    note: () => {},
  });
  linkBeside(currentBin, bin);
  return bin;
}

function linkBeside(currentBin: string, bin: string): void {
  for (const name of BESIDE) {
    const target = join(currentBin, name);
    if (!existsSync(target))
      throw new Error(`${target} is missing: the current engine is not installed`);
    symlinkSync(target, join(bin, name));
  }
}
