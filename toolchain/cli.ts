import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { runUnderDagger } from "./dagger-run.js";
import { doctor, renderDoctor } from "./doctor.js";
import { toolchainEnv } from "./env.js";
import { ToolchainError } from "./errors.js";
import { toolchainPaths } from "./paths.js";
import { setup } from "./setup.js";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const paths = toolchainPaths();

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
  .action(async () => {
    await setup(repoRoot, paths);
  });

program
  .command("doctor")
  .description("check every component and say how to fix what is broken")
  .option("--json", "print one JSON object instead of a table")
  .action(async (opts: { json?: boolean }) => {
    const report = await doctor(paths);
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
    await setup(repoRoot, paths);
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
    await setup(repoRoot, paths);
    const main = join(repoRoot, "ci", "main.ts");
    if (!existsSync(main)) {
      process.stderr.write(
        "The toolchain is ready. The pipeline itself (ci/main.ts) has not landed yet; nothing more to run.\n",
      );
      return;
    }
    process.exitCode = await runUnderDagger({
      dagger: join(paths.bin, "dagger"),
      command: [join(repoRoot, "node_modules", ".bin", "tsx"), main, ...args],
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
