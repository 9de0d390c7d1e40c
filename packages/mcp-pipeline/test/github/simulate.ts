// npm run test:github -- --event pull_request|push|tag [--fork] [--job ID]… [--keep]
//
// Runs the event's workflow on the simulated runner (simulation.ts) and prints one line per job —
// verdict, id, result, time, name, and the failed step — then exits 0 only when every job did what
// the event requires. GH_SIM_TEST_FILTER narrows the inner `npm test` while developing.
import { parseArgs } from "node:util";
import { removeRunnerUser } from "./runner.js";
import { describeResult, type SimOptions, simulate } from "./simulation.js";

function options(argv: string[]): SimOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      event: { type: "string" },
      fork: { type: "boolean", default: false },
      job: { type: "string", multiple: true, default: [] },
      keep: { type: "boolean", default: false },
    },
  });
  const event = values.event;
  if (event !== "pull_request" && event !== "push" && event !== "tag")
    throw new Error("--event must be pull_request, push or tag");
  if (values.fork && event !== "pull_request")
    throw new Error("--fork is for --event pull_request");
  return { event, fork: values.fork, jobs: values.job, keep: values.keep };
}

async function main(): Promise<number> {
  const opts = options(process.argv.slice(2));
  const result = await simulate(opts);
  await removeRunnerUser(result.user);
  for (const line of describeResult(result)) process.stdout.write(`${line}\n`);
  const label = `${opts.event}${opts.fork ? " (fork)" : ""}`;
  process.stdout.write(
    `${result.ok ? "passed" : "failed"}: ${label} in ${result.seconds.toFixed(0)}s; act log ${result.log}\n`,
  );
  return result.ok ? 0 : 1;
}

process.exitCode = await main().catch((err: unknown) => {
  process.stderr.write(
    `test:github: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  return 2;
});
