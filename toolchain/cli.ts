import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { loadConfig } from "../ci/config/load.js";
import { exportBundle } from "./bundle.js";
import { compile } from "./compile.mjs";
import type { SetupNeeds } from "./context.js";
import { runUnderDagger } from "./dagger-run.js";
import { doctor, renderDoctor } from "./doctor.js";
import { toolchainEnv } from "./env.js";
import { ToolchainError } from "./errors.js";
import { toolchainPaths } from "./paths.js";
import { ProgressLine } from "./progress.js";
import { loadSettings } from "./settings.js";
import { setup } from "./setup.js";
import { readRegistryAuth } from "./steps/registry.js";
import { formatDuration } from "./terminal.js";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const paths = toolchainPaths();

/**
 * Whether the pipeline would publish to the local authenticated registry: no
 * registry configured (file, environment, GitHub's defaults), or that one.
 * A configuration the pipeline will reject counts as local, so setup still
 * provides what the pipeline's own error message will point at.
 */
function publishesLocally(env: NodeJS.ProcessEnv): boolean {
  try {
    const { address } = loadConfig({ cwd: process.cwd(), env }).registry;
    return address === undefined || address === readRegistryAuth(paths)?.address;
  } catch {
    return true;
  }
}

function runSetup(needs: SetupNeeds, fromBundle?: string) {
  return setup(repoRoot, paths, { settings: loadSettings(), needs, fromBundle });
}

/** What `ci/replay.ts` exits with when there is nothing to replay: the pipeline then runs for real. */
const REPLAY_MISS = 75;

/** Runs a command with the toolchain's environment and returns its exit code. */
function runWithToolchain(cmd: string, args: string[]): number {
  const res = spawnSync(cmd, args, { cwd: repoRoot, stdio: "inherit", env: toolchainEnv(paths) });
  if (res.error) throw res.error;
  return res.status ?? 1;
}

const program = new Command("toolchain")
  .description(
    "Install, check and use the container toolchain (Docker, Compose, Buildx, Trivy, actionlint, Dagger, registries)",
  )
  .showHelpAfterError()
  // Options after `test` and `pipeline` (even --help) belong to vitest and the pipeline.
  .enablePositionalOptions();

program
  .command("setup")
  .description("install what is missing; each step is skipped when already done")
  .option("--export-bundle <file>", "then write every binary and image it built into one archive")
  .option(
    "--from-bundle <file>",
    "install from an offline bundle (verified against its manifest) instead of building",
  )
  .action(async (opts: { exportBundle?: string; fromBundle?: string }) => {
    const { mode } = await runSetup(
      { authRegistry: publishesLocally(process.env) },
      opts.fromBundle,
    );
    if (opts.exportBundle) {
      const progress = new ProgressLine(`[bundle] ${opts.exportBundle}`);
      const out = await exportBundle(paths, opts.exportBundle, toolchainEnv(paths), {
        online: mode === "online",
        note: (t) => progress.update(t),
      });
      const ms = progress.finish("written");
      process.stderr.write(
        `bundle: ${out.file} (${(out.bytes / 1e6).toFixed(0)} MB, sha256 ${out.sha256}, ${formatDuration(ms)}); install it with \`npm run setup -- --from-bundle ${out.file}\`\n`,
      );
    }
  });

program
  .command("doctor")
  .description("check every component and say how to fix what is broken")
  .option("--json", "print one JSON object instead of a table")
  .action(async (opts: { json?: boolean }) => {
    const report = await doctor(paths, loadSettings());
    process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : `${renderDoctor(report)}\n`);
    process.exitCode = report.ok ? 0 : 1;
  });

program
  .command("test")
  .description("set up the toolchain, then run the whole test suite (extra arguments go to vitest)")
  .helpOption(false)
  .passThroughOptions()
  .allowUnknownOption()
  .argument("[args...]")
  .action(async (args: string[]) => {
    // The end-to-end tests publish to the local authenticated registry.
    await runSetup({ authRegistry: true });
    process.exitCode = runWithToolchain(join(repoRoot, "node_modules", ".bin", "vitest"), [
      "run",
      ...args,
    ]);
  });

program
  .command("pipeline")
  .description(
    "set up the toolchain, then run the Dagger pipeline under `dagger run`, ending on its summary",
  )
  .helpOption(false)
  .passThroughOptions()
  .allowUnknownOption()
  .argument("[args...]")
  .action(async (args: string[]) => {
    await runSetup({ authRegistry: publishesLocally(process.env) });
    const main = join(repoRoot, "ci", "main.ts");
    if (!existsSync(main)) {
      process.stderr.write(
        "The toolchain is ready. The pipeline itself (ci/main.ts) has not landed yet; nothing more to run.\n",
      );
      return;
    }
    const [mainBundle, replayBundle] = await Promise.all([
      compile(main, repoRoot),
      compile(join(repoRoot, "ci", "replay.ts"), repoRoot),
    ]);
    // A run with nothing changed since one that passed is replayed without starting Dagger.
    const replayed = runWithToolchain(process.execPath, [
      "--enable-source-maps",
      replayBundle,
      ...args,
    ]);
    if (replayed !== REPLAY_MISS) {
      process.exitCode = replayed;
      return;
    }
    process.exitCode = await runUnderDagger({
      dagger: join(paths.bin, "dagger"),
      command: [process.execPath, "--enable-source-maps", mainBundle, ...args],
      cwd: repoRoot,
      env: toolchainEnv(paths),
      interactive: Boolean(process.stderr.isTTY),
    });
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ToolchainError) {
    process.stderr.write(`\nerror: ${err.message}\n${err.hint ? `fix: ${err.hint}\n` : ""}`);
    process.exit(2);
  }
  throw err;
}
