import { chmodSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { totalmem } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { ToolchainError, ToolchainErrorCode } from "../host/errors.js";
import { run, which } from "../host/exec.js";

/** Finds the Go toolchain (PATH, then the official tarball's location). */
export function goBinary(env: NodeJS.ProcessEnv): string {
  const found =
    which("go", env) ?? ["/usr/local/go/bin/go", "/usr/lib/go/bin/go"].find((p) => existsSync(p));
  if (!found) {
    throw new ToolchainError(
      ToolchainErrorCode.Unsupported,
      "Go is needed to build the air-gapped toolchain and is not installed.",
      {
        hint: "Install Go ≥ 1.24 (the official tarball into /usr/local/go, or your distribution's golang package).",
      },
    );
  }
  return found;
}

/**
 * The collector settings of a Go build: the compiler collects garbage a quarter as often
 * (GOGC=400), under a soft memory limit of a quarter of the machine's memory per process, so a
 * small machine collects as before. Trivy's cold build on 2 cores: 354 s against 416 s, its CPU
 * time 18% lower (docs/toolchain.md). The caller's own GOGC or GOMEMLIMIT wins.
 */
export function goBuildMemory(
  env: NodeJS.ProcessEnv,
  memoryBytes = totalmem(),
): { GOGC: string; GOMEMLIMIT: string } {
  const limitMiB = Math.max(256, Math.floor(memoryBytes / 4 / 2 ** 20));
  return {
    GOGC: env.GOGC ?? "400",
    GOMEMLIMIT: env.GOMEMLIMIT ?? `${limitMiB}MiB`,
  };
}

const GoModJson = z.object({
  Go: z.string(),
  Replace: z
    .array(
      z.object({
        Old: z.object({ Path: z.string(), Version: z.string().optional() }),
        New: z.object({ Path: z.string(), Version: z.string().optional() }),
      }),
    )
    .nullish(),
  Exclude: z.array(z.object({ Path: z.string(), Version: z.string() })).nullish(),
});

export interface WrapperBuild {
  /** Module to build from, e.g. `github.com/docker/compose/v2`. */
  module: string;
  version: string;
  /**
   * The module's source, already unpacked, when `go` cannot download it (the
   * proxy serves its zip but not its go.mod); the wrapper replaces the module with it.
   */
  sourceDir?: string;
  /** Packages (main) to build, each to `out/<name>`. */
  binaries: { pkg: string; name: string }[];
  dir: string;
  ldflags?: string;
  /** Extra requirements (same-version SDKs) and local replacements (`path => ./dir`). */
  extraRequire?: string[];
  localReplace?: Record<string, { dir: string; files: Record<string, string> }>;
  /**
   * Replace directives of our own (`old version => new version`), for a dependency version the
   * module proxy refuses; the replacement is checked by the checksum database like the rest.
   */
  replace?: readonly string[];
  /** Modules the checksum database does not know (versions it never saw); their hashes come from go.sum. */
  noSumDb?: string[];
  env: NodeJS.ProcessEnv;
  logFile: string;
  note: (text: string) => void;
}

/** `go mod download` of the module: where its source and its go.mod are. */
async function downloadModule(
  go: string,
  b: WrapperBuild,
  env: NodeJS.ProcessEnv,
): Promise<{ Dir: string; GoMod: string }> {
  // A throwaway go.mod so `go mod download` runs in module mode inside the dir.
  writeFileSync(join(b.dir, "go.mod"), "module local/wrapper\n");
  return z.object({ Dir: z.string(), GoMod: z.string() }).parse(
    JSON.parse(
      await run(go, ["mod", "download", "-json", `${b.module}@v${b.version}`], {
        env,
        cwd: b.dir,
        logFile: b.logFile,
      }),
    ),
  );
}

/**
 * Builds binaries of a module whose go.mod has replace or exclude directives,
 * which `go install pkg@version` refuses. A small wrapper module requires it,
 * repeats its non-local replace and its exclude directives, and starts from
 * its go.sum, so every dependency is checked against the hashes its
 * maintainers pinned.
 */
export async function buildWithWrapper(b: WrapperBuild): Promise<void> {
  const go = goBinary(b.env);
  const env: NodeJS.ProcessEnv = {
    ...b.env,
    ...goBuildMemory(b.env),
    CGO_ENABLED: "0",
    GOFLAGS: "-mod=mod -trimpath",
    ...(b.noSumDb?.length ? { GONOSUMDB: b.noSumDb.join(",") } : {}),
  };
  mkdirSync(join(b.dir, "out"), { recursive: true });
  b.note(`resolve ${b.module}@v${b.version}`);
  const info = b.sourceDir
    ? { Dir: b.sourceDir, GoMod: join(b.sourceDir, "go.mod") }
    : await downloadModule(go, b, env);
  const upstream = GoModJson.parse(
    JSON.parse(await run(go, ["mod", "edit", "-json", info.GoMod], { env, cwd: b.dir })),
  );
  const replaces = (upstream.Replace ?? [])
    .filter((r) => r.New.Version)
    .map(
      (r) =>
        `replace ${r.Old.Path}${r.Old.Version ? ` ${r.Old.Version}` : ""} => ${r.New.Path} ${r.New.Version}`,
    );
  const excludes = (upstream.Exclude ?? []).map((e) => `exclude ${e.Path} ${e.Version}`);
  const local = Object.entries(b.localReplace ?? {});
  const lines = [
    `module local/${b.binaries[0]?.name ?? "tool"}-build`,
    "",
    `go ${upstream.Go}`,
    "",
    "require (",
    `\t${b.module} v${b.version}`,
    ...(b.extraRequire ?? []).map((r) => `\t${r}`),
    ...local.map(([path]) => `\t${path} v0.0.0`),
    ")",
    "",
    ...local.map(([path, l]) => `replace ${path} => ./${l.dir}`),
    ...(b.sourceDir ? [`replace ${b.module} => ${b.sourceDir}`] : []),
    ...replaces,
    ...(b.replace ?? []).map((r) => `replace ${r}`),
    ...excludes,
    "",
    "tool (",
    ...b.binaries.map((x) => `\t${x.pkg}`),
    ")",
    "",
  ];
  writeFileSync(join(b.dir, "go.mod"), lines.join("\n"));
  for (const [, l] of local) {
    mkdirSync(join(b.dir, l.dir), { recursive: true });
    for (const [file, text] of Object.entries(l.files))
      writeFileSync(join(b.dir, l.dir, file), text);
  }
  if (existsSync(join(info.Dir, "go.sum"))) {
    copyFileSync(join(info.Dir, "go.sum"), join(b.dir, "go.sum"));
    chmodSync(join(b.dir, "go.sum"), 0o644);
  }
  await run(go, ["mod", "tidy"], { env, cwd: b.dir, logFile: b.logFile });
  for (const bin of b.binaries) {
    b.note(`go build ${bin.pkg}`);
    await run(
      go,
      [
        "build",
        `-ldflags=-s -w ${b.ldflags ?? ""}`.trim(),
        "-o",
        join(b.dir, "out", bin.name),
        bin.pkg,
      ],
      {
        env,
        cwd: b.dir,
        logFile: b.logFile,
      },
    );
  }
}

export interface GoInstall {
  /** The main package, e.g. `github.com/opencontainers/runc`. */
  pkg: string;
  version: string;
  /** Where `go install` puts the binary. */
  gobin: string;
  tags?: readonly string[];
  ldflags?: string;
  /** Build with cgo (runc: its nsenter and seccomp packages are C). */
  cgo?: boolean;
  env: NodeJS.ProcessEnv;
  logFile: string;
  note: (text: string) => void;
}

/**
 * `go install pkg@version` for a module whose go.mod has no replace directives: `go` downloads
 * the module and its dependencies through the module proxy and checks each against the module's
 * go.sum and the checksum database. Throws a CommandError with the tail of go's output.
 */
export async function goInstall(b: GoInstall): Promise<void> {
  const go = goBinary(b.env);
  mkdirSync(b.gobin, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...b.env,
    ...goBuildMemory(b.env),
    GOBIN: b.gobin,
    CGO_ENABLED: b.cgo ? "1" : "0",
    // The caller's -mod or -buildvcs flags mean nothing to `go install pkg@version`.
    GOFLAGS: "-trimpath",
  };
  b.note(`go install ${b.pkg}@v${b.version}`);
  await run(
    go,
    [
      "install",
      ...(b.tags?.length ? ["-tags", b.tags.join(",")] : []),
      `-ldflags=-s -w ${b.ldflags ?? ""}`.trim(),
      `${b.pkg}@v${b.version}`,
    ],
    { env, cwd: b.gobin, logFile: b.logFile },
  );
}
