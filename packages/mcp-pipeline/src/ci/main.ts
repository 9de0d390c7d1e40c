import { BuildError, InternalError, PipelineError } from "./errors.js";
import { runPipeline } from "./pipeline.js";
import { readRequest } from "./request.js";

// `npm run pipeline -- [stage] [options]`: reads the request (arguments, configuration,
// environment), runs the pipeline, and maps the outcome to an exit code. Nothing else.

/** Exit codes: the entry point alone maps outcomes to them. */
const EXIT = { passed: 0, failed: 1, badInput: 2 } as const;

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const outcome = await runPipeline(readRequest(argv, env, process.cwd()));
  return outcome.passed ? EXIT.passed : EXIT.failed;
}

try {
  process.exitCode = await main(process.argv, process.env);
} catch (err) {
  const code = (err as { code?: string }).code;
  if (code === "commander.helpDisplayed" || code === "commander.version") {
    process.exitCode = EXIT.passed;
  } else if (code?.startsWith("commander.")) {
    // commander has already printed the problem and the usage.
    process.exitCode = EXIT.badInput;
  } else if (err instanceof BuildError) {
    process.stderr.write(`pipeline: ${err.message}\n`);
    process.exitCode = EXIT.failed;
  } else if (err instanceof InternalError) {
    process.stderr.write(
      `pipeline: unexpected error: ${err.message}\n  the full error is in ${err.logFile}\n`,
    );
    process.exitCode = EXIT.failed;
  } else if (err instanceof PipelineError) {
    process.stderr.write(`pipeline: ${err.message}\n`);
    process.exitCode = EXIT.badInput;
  } else {
    // Before the pipeline could write its report (reading arguments, config, git).
    process.stderr.write(
      `pipeline: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exitCode = EXIT.failed;
  }
}
