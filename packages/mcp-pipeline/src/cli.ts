import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { parseArgs, pipelineCommand, STAGES } from "./ci/command.js";
import { loadConfig } from "./ci/config/load.js";
import { PipelineError } from "./ci/errors.js";
import { mcpRegistryPublish } from "./ci/release/mcp-registry-publish.js";
import { ToolchainError } from "./host/errors.js";
import { ProgressLine } from "./host/progress.js";
import { formatDuration } from "./host/terminal.js";
import { initRepository, renderInitResult } from "./init/init.js";
import { CODE_DIR, PACKAGE_ROOT } from "./package-root.js";
import { exportBundle } from "./toolchain/bundle.js";
import type { SetupNeeds } from "./toolchain/context.js";
import { interactiveView, runUnderDagger } from "./toolchain/dagger-run.js";
import { doctor, renderDoctor } from "./toolchain/doctor.js";
import { toolchainEnv } from "./toolchain/env.js";
import { loadSettings, toolchainPaths } from "./toolchain/settings.js";
import { setup } from "./toolchain/setup.js";
import { readRegistryAuth } from "./toolchain/state.js";
import { ensureMcpRegistryTools } from "./toolchain/steps/mcp-registry.js";
import { currentEngine } from "./toolchain/versions.js";

// `mcp-pipeline [stage] [options]` and its commands. The stages run the pipeline (ci/main.ts)
// under `dagger run` after setup; the commands install, check, start a repository, release, or
// run a tool with the toolchain on PATH. This file routes and maps errors to exit codes.

/** Exit codes of every command: the public contract (docs/cli.md). */
export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;

/** What `ci/replay.ts` exits with when there is nothing to replay: the pipeline then runs for real. */
const REPLAY_MISS = 75;

const COMMANDS = [
  "setup",
  "doctor",
  "init",
  "release",
  "mcp-registry-publish",
  "exec",
  "help",
] as const;

const paths = toolchainPaths();
const cwd = process.cwd();

/**
 * Whether the pipeline would publish to the local authenticated registry: no
 * registry configured (file, environment, GitHub's defaults), or that one.
 * A configuration the pipeline will reject counts as local, so setup still
 * provides what the pipeline's own error message will point at.
 */
function publishesLocally(env: NodeJS.ProcessEnv): boolean {
  try {
    const { address } = loadConfig({ cwd, env }).registry;
    return address === undefined || address === readRegistryAuth(paths)?.address;
  } catch {
    return true;
  }
}

function runSetup(needs: SetupNeeds, fromBundle?: string) {
  return setup(paths, { settings: loadSettings(), needs, fromBundle });
}

/** Runs a program with the toolchain's environment in the caller's directory; its exit code. */
function runWithToolchain(cmd: string, args: string[]): number {
  const res = spawnSync(cmd, args, { cwd, stdio: "inherit", env: toolchainEnv(paths) });
  if (res.error) {
    throw new ToolchainError(
      "TOOLCHAIN_COMMAND_FAILED",
      `could not start ${cmd}: ${res.error.message}`,
      {
        hint: "check the command's name; `mcp-pipeline exec` runs it with the toolchain's bin directory first on PATH.",
        cause: res.error,
      },
    );
  }
  return res.status ?? (res.signal ? 130 : 1);
}

/** The compiled module of an entry point beside this one. */
const entry = (name: string) => join(CODE_DIR, `${name}.js`);

/** Setup for what the run needs, a replay when nothing changed, else the pipeline under Dagger. */
async function pipeline(args: string[]): Promise<number> {
  // Arguments first: a typo or --help costs no setup. Commander prints what is wrong.
  parseArgs(["node", "mcp-pipeline", ...args]);
  await runSetup({ authRegistry: publishesLocally(process.env) });
  // A run with nothing changed since one that passed is replayed without starting Dagger.
  const replayed = runWithToolchain(process.execPath, [
    "--enable-source-maps",
    entry("ci/replay"),
    ...args,
  ]);
  if (replayed !== REPLAY_MISS) return replayed;
  return runUnderDagger({
    dagger: join(paths.bin, "dagger"),
    command: [process.execPath, "--enable-source-maps", entry("ci/main"), ...args],
    cwd,
    env: toolchainEnv(paths),
    interactive: interactiveView(Boolean(process.stderr.isTTY), process.env),
  });
}

/** This package's version, from its manifest. */
function packageVersion(): string {
  return (
    JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }
  ).version;
}

function program(): Command {
  const cli = new Command("mcp-pipeline")
    .usage(`[${STAGES.join("|")}] [options] | <command>`)
    .description(
      "Build a container image with Dagger, prove it (non-root, size, health, Trivy, compose smoke, MCP conformance and contract), publish, sign and report it.",
    )
    .version(packageVersion(), "-V, --version")
    .showHelpAfterError()
    .enablePositionalOptions()
    .addHelpText(
      "after",
      `
Stages (the default is all; each includes the ones before it):
  ${STAGES.join(", ")}    options: mcp-pipeline verify --help

Exit codes: 0 passed, 1 a gate failed or the image did not build, 2 bad configuration or environment.
Configuration: pipeline.config.yaml in the current directory (docs/configuration.md).`,
    );

  cli
    .command("setup")
    .description(
      "install the toolchain (Docker, Compose, Buildx, Trivy, cosign, Dagger, registries); each step is skipped when already done",
    )
    .option(
      "--with-local-registry",
      "also start the local authenticated registry (what end-to-end tests publish to)",
    )
    .option(
      "--with-mcp-registry",
      "also build the MCP Registry and mcp-publisher and install PostgreSQL (what end-to-end tests publish server.json to)",
    )
    .option("--export-bundle <file>", "then write every binary and image it built into one archive")
    .option(
      "--from-bundle <file>",
      "install from an offline bundle (verified against its manifest) instead of building",
    )
    .action(
      async (opts: {
        withLocalRegistry?: boolean;
        withMcpRegistry?: boolean;
        exportBundle?: string;
        fromBundle?: string;
      }) => {
        const { mode } = await runSetup(
          {
            authRegistry: opts.withLocalRegistry === true || publishesLocally(process.env),
            mcpRegistry: opts.withMcpRegistry === true,
          },
          opts.fromBundle,
        );
        if (opts.exportBundle) {
          const progress = new ProgressLine(`[bundle] ${opts.exportBundle}`);
          const out = await exportBundle(paths, opts.exportBundle, toolchainEnv(paths), {
            online: mode === "online",
            note: (t) => progress.update(t),
          });
          const ms = progress.finish("written");
          const engine = out.engine
            ? `with Docker ${currentEngine.docker}`
            : "without a Docker engine: this machine's own runs, so a machine installing the bundle needs one of its own";
          process.stderr.write(
            `bundle: ${out.file} (${(out.bytes / 1e6).toFixed(0)} MB, sha256 ${out.sha256}, ${formatDuration(ms)}), ${engine}; install it with \`mcp-pipeline setup --from-bundle ${out.file}\`\n`,
          );
        }
      },
    );

  cli
    .command("doctor")
    .description("check every component and say how to fix what is broken")
    .option("--json", "print one JSON object instead of a table")
    .action(async (opts: { json?: boolean }) => {
      const report = await doctor(paths, loadSettings());
      process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : `${renderDoctor(report)}\n`);
      process.exitCode = report.ok ? EXIT.ok : EXIT.failed;
    });

  cli
    .command("init")
    .description(
      "write pipeline.config.yaml and a GitHub workflow from what the repository has (Dockerfile, compose file, MCP)",
    )
    .option("--force", "overwrite files that exist")
    .option("--dry-run", "print what would be written, write nothing")
    .action(async (opts: { force?: boolean; dryRun?: boolean }) => {
      const result = await initRepository(cwd, {
        force: opts.force === true,
        dryRun: opts.dryRun === true,
      });
      process.stdout.write(renderInitResult(result));
    });

  cli
    .command("release")
    .description(
      "check the tree, run the pipeline without publishing, bump the version and tag vX.Y.Z (pushing is left to you)",
    )
    .helpOption(false)
    .passThroughOptions()
    .allowUnknownOption()
    .argument("[args...]")
    .action((args: string[]) => {
      process.exitCode = runWithToolchain(process.execPath, [entry("ci/release/main"), ...args]);
    });

  cli
    .command("mcp-registry-publish")
    .description(
      "after a release, list its server.json in an MCP Registry (mcp-publisher), pinned to the released digest",
    )
    .helpOption(false)
    .passThroughOptions()
    .allowUnknownOption()
    .argument("[args...]")
    .action(async (args: string[]) => {
      // The publisher is built on first use, with the toolchain's Go machinery.
      const env = toolchainEnv(paths);
      process.exitCode = await mcpRegistryPublish(["node", "mcp-registry-publish", ...args], {
        cwd,
        env,
        publisher: async () => {
          const { publisher } = await ensureMcpRegistryTools(
            {
              paths,
              env,
              logFile: join(paths.logs, "mcp-publisher.log"),
              note: (text) => process.stderr.write(`mcp-registry: ${text}\n`),
            },
            ["publisher"],
          );
          return publisher;
        },
        out: (text) => process.stdout.write(text),
        err: (text) => process.stderr.write(text),
      });
    });

  cli
    .command("exec")
    .description(
      "run a command with the toolchain's bin directory first on PATH (e.g. exec trivy --version)",
    )
    .helpOption(false)
    .passThroughOptions()
    .allowUnknownOption()
    .argument("<command>")
    .argument("[args...]")
    .action((command: string, args: string[]) => {
      process.exitCode = runWithToolchain(command, args);
    });
  return cli;
}

async function main(argv: string[]): Promise<void> {
  const [first] = argv;
  if (argv.length === 1 && (first === "-h" || first === "--help")) {
    // Both: the commands, then every stage option.
    program().outputHelp();
    process.stdout.write("\n");
    pipelineCommand().outputHelp();
    return;
  }
  if (
    first === undefined ||
    (!(COMMANDS as readonly string[]).includes(first) && !/^(-h|--help|-V|--version)$/.test(first))
  ) {
    process.exitCode = await pipeline(argv);
    return;
  }
  await program().exitOverride().parseAsync(argv, { from: "user" });
}

try {
  await main(process.argv.slice(2));
} catch (err) {
  const code = (err as { code?: string }).code;
  if (
    code === "commander.helpDisplayed" ||
    code === "commander.help" ||
    code === "commander.version"
  ) {
    process.exitCode = EXIT.ok;
  } else if (code?.startsWith("commander.")) {
    // commander has already printed the problem and the usage.
    process.exitCode = EXIT.badInput;
  } else if (err instanceof ToolchainError) {
    process.stderr.write(`\nerror: ${err.message}\n${err.hint ? `fix: ${err.hint}\n` : ""}`);
    process.exitCode = EXIT.badInput;
  } else if (err instanceof PipelineError) {
    // Arguments read before the run starts (an unknown stage, say): bad input.
    process.stderr.write(`mcp-pipeline: ${err.message}\n`);
    process.exitCode = EXIT.badInput;
  } else {
    throw err;
  }
}
