/**
 * `npm run audit:mutations -- [--full] [--json FILE] [ID…]`: applies each mutant of
 * test/mutation/mutants.ts, one at a time, to a scratch copy of the repository (the working tree
 * is never touched) and runs the unit project against it. By default only the unit tests that
 * import the mutated file (`vitest related`) run; `--full` runs the whole unit project, which is
 * what decides a survivor. Before the mutants, the same tests run unmutated and must pass.
 * Prints one line per mutant and a table; exits 1 when a mutant not marked e2e-only survives.
 */
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { execa } from "execa";
import { formatDuration } from "../../toolchain/terminal.js";
import { MUTANTS, type Mutant, mutate } from "./mutants.js";

const root = resolve(import.meta.dirname, "../..");
const RUN_TIMEOUT_MS = 15 * 60_000;

interface Outcome {
  mutant: Mutant;
  killed: boolean;
  /** The failing test files, or why the run counts as killed. */
  by: string[];
  durationMs: number;
}

/** A scratch copy of the repository's files (tracked and untracked, not ignored), sharing node_modules. */
async function scratchCopy(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "mutation-audit-"));
  const listed = await execa(
    "git",
    ["ls-files", "--cached", "--others", "--exclude-standard", "-z"],
    {
      cwd: root,
    },
  );
  const files = listed.stdout
    .split("\0")
    .filter((f) => f !== "" && f.split("/")[0] !== "node_modules");
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    try {
      cpSync(join(root, file), join(dir, file));
    } catch (error) {
      // A file deleted in the working tree but still in the index.
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  return dir;
}

/** Runs the unit tests for `file` (or all of them) in `dir`; the failing test files, or undefined when all pass. */
async function unitTests(dir: string, file: string, full: boolean): Promise<string[] | undefined> {
  const report = join(dir, ".mutation-report.json");
  rmSync(report, { force: true });
  const args: string[] = full
    ? ["run", "--project", "unit"]
    : ["related", file, "--run", "--project", "unit", "--passWithNoTests"];
  // The audit's own test checks that each mutant still applies to the code: it always fails
  // while a mutant is in place, and says nothing about the code.
  args.push("--exclude", "**/test/mutation/**");
  const run = await execa(
    join(dir, "node_modules", ".bin", "vitest"),
    [...args, "--reporter=json", `--outputFile=${report}`],
    {
      cwd: dir,
      reject: false,
      timeout: RUN_TIMEOUT_MS,
      env: { NO_COLOR: "1" },
    },
  );
  if (run.timedOut) return ["(timed out)"];
  if (run.exitCode === 0) return undefined;
  try {
    const json = JSON.parse(readFileSync(report, "utf8")) as {
      testResults: { name: string; status: string }[];
    };
    const failed = json.testResults
      .filter((t) => t.status !== "passed")
      .map((t) => t.name.slice(dir.length + 1));
    // Exit 1 with every file passed: an unhandled error or a failed run, which vitest prints.
    const why = `${run.stderr}\n${run.stdout}`.split("\n").find((line) => /error/i.test(line));
    return failed.length > 0
      ? failed
      : [`(vitest exited ${run.exitCode}${why ? `: ${why.trim().slice(0, 200)}` : ""})`];
  } catch {
    return [`(vitest exited ${run.exitCode}: ${run.stderr.split("\n").slice(-3).join(" ")})`];
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { full: { type: "boolean", default: false }, json: { type: "string" } },
    allowPositionals: true,
  });
  const unknown = positionals.filter((id) => !MUTANTS.some((m) => m.id === id));
  if (unknown.length > 0) {
    process.stderr.write(`audit: no mutant named ${unknown.join(", ")}\n`);
    return 2;
  }
  const mutants =
    positionals.length > 0 ? MUTANTS.filter((m) => positionals.includes(m.id)) : MUTANTS;
  const dir = await scratchCopy();
  const outcomes: Outcome[] = [];
  try {
    // Files that fail without any mutant (with --full, once for the whole project) do not count
    // as kills; the audit says which they are.
    const baselines = new Map<string, readonly string[]>();
    for (const mutant of mutants) {
      const file = join(dir, mutant.file);
      const original = readFileSync(file, "utf8");
      const mutated = mutate(original, mutant);
      const baselineKey = values.full ? "(all)" : mutant.file;
      let baseline = baselines.get(baselineKey);
      if (!baseline) {
        baseline = (await unitTests(dir, file, values.full)) ?? [];
        baselines.set(baselineKey, baseline);
        if (baseline.length > 0) {
          process.stderr.write(
            `audit: without any mutant these already fail, and are not counted: ${baseline.join(", ")}\n`,
          );
        }
      }
      const started = Date.now();
      writeFileSync(file, mutated);
      let failing: string[];
      try {
        failing = ((await unitTests(dir, file, values.full)) ?? []).filter(
          (name) => !baseline.includes(name),
        );
      } finally {
        writeFileSync(file, original);
      }
      const outcome = {
        mutant,
        killed: failing.length > 0,
        by: failing,
        durationMs: Date.now() - started,
      };
      outcomes.push(outcome);
      process.stderr.write(
        `${outcome.killed ? "killed  " : "SURVIVED"} ${mutant.id} (${formatDuration(outcome.durationMs)})${outcome.killed ? `: ${outcome.by.join(", ")}` : ""}\n`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const killed = outcomes.filter((o) => o.killed).length;
  const lines = [
    `| mutant | file | harm | unit project (${values.full ? "all" : "related"} tests) |`,
    "| --- | --- | --- | --- |",
    ...outcomes.map(
      (o) =>
        `| ${o.mutant.id} | ${o.mutant.file} | ${o.mutant.harm} | ${o.killed ? `killed by ${o.by.join(", ")}` : o.mutant.e2eOnly ? `survives (e2e only: ${o.mutant.e2eOnly})` : "**survives**"} |`,
    ),
    "",
    `${killed}/${outcomes.length} killed by the unit project`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  if (values.json) writeFileSync(values.json, `${JSON.stringify(outcomes, null, 2)}\n`);
  return outcomes.some((o) => !o.killed && !o.mutant.e2eOnly) ? 1 : 0;
}

process.exitCode = await main();
