// `npm run bench:pipeline`: in one run on this machine, the pipeline (verify, no publish) cold
// (Dagger's engine cache pruned), warm with nothing changed (with and without the result
// cache), warm after an app source change, and the same gates by hand; a table of medians and
// ratios on the terminal and in bench-results/.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";

// Run through `mcp-pipeline exec` (npm run bench:pipeline does), so the toolchain's binaries
// (the Dagger CLI for the cold prune, Trivy for the by-hand run) are on PATH.

const formatDuration = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Plain columns: the first left-aligned, the rest right-aligned. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  return [header, ...rows].map((row) =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join("  "),
  );
}

// A missing hyperfine stops before anything runs, saying what to install (was a raw ENOENT
// stack trace after the warm-up run).
if ((await execa("hyperfine", ["--version"], { reject: false })).exitCode !== 0) {
  process.stderr.write(
    "bench:pipeline times the runs with hyperfine, which is not on PATH: install it (Debian: apt-get install hyperfine) and run again\n",
  );
  process.exit(2);
}

const runs = Number(process.env.RUNS ?? 3);
const dir = mkdtempSync(join(tmpdir(), "bench-"));
const report = join(dir, "report");
const pipeline = (flags: string) =>
  `npm run -s pipeline -- verify --no-publish ${flags} --report-dir ${report} >/dev/null 2>&1`;
const scenarios = [
  {
    name: "cold",
    command: pipeline("--no-cache"),
    prepare: "dagger core --progress=plain engine local-cache prune >/dev/null 2>&1",
  },
  { name: "warm, no change, cached", command: pipeline(""), prepare: "true" },
  { name: "warm, no change, --no-cache", command: pipeline("--no-cache"), prepare: "true" },
  // Like for like with the by-hand script, which checks the machine's platform only.
  {
    name: "warm, --no-cache, linux/amd64 only",
    command: `PIPELINE_PLATFORMS=linux/amd64 ${pipeline("--no-cache")}`,
    prepare: "true",
  },
  { name: "warm, app changed", command: pipeline(""), prepare: "node bench/touch-app.mjs" },
  { name: "by hand", command: "bash bench/manual-checks.sh >/dev/null 2>&1", prepare: "true" },
];

try {
  const json = join(dir, "hyperfine.json");
  const args = ["--runs", String(runs), "--export-json", json, "--style", "basic"];
  for (const s of scenarios) args.push("--command-name", s.name, "--prepare", s.prepare, s.command);
  // A warm-up run first, so "warm" really is.
  await execa("bash", ["-c", pipeline("")], { stdio: "inherit" });
  await execa("hyperfine", args, { stdio: "inherit" });
  const results = (
    JSON.parse(readFileSync(json, "utf8")) as {
      results: { command: string; median: number; mean: number; stddev: number | null }[];
    }
  ).results;
  const median = (name: string) => (results.find((r) => r.command === name)?.median ?? NaN) * 1000;
  const health = JSON.parse(readFileSync(join(report, "report.json"), "utf8")) as {
    checks: { id: string; summary: string }[];
  };
  const rows = results.map((r) => [
    r.command,
    formatDuration(r.median * 1000),
    formatDuration((r.stddev ?? 0) * 1000),
  ]);
  const ratios = [
    [
      "warm --no-cache / by hand",
      (median("warm, no change, --no-cache") / median("by hand")).toFixed(2),
      "≤ 0.5",
    ],
    [
      "warm --no-cache, amd64 only / by hand",
      (median("warm, --no-cache, linux/amd64 only") / median("by hand")).toFixed(2),
      "≤ 0.5 (the same platforms)",
    ],
    [
      "warm cached / cold",
      (median("warm, no change, cached") / median("cold")).toFixed(2),
      "≤ 0.1",
    ],
    ["app changed / cold", (median("warm, app changed") / median("cold")).toFixed(2), ""],
  ];
  const probe = health.checks.find((c) => c.id === "healthcheck")?.summary ?? "";
  const text = [
    `pipeline bench, ${runs} runs each, ${new Date().toISOString()}`,
    "",
    ...table(["SCENARIO", "MEDIAN", "STDDEV"], rows),
    "",
    ...table(["RATIO", "VALUE", "GOAL"], ratios),
    "",
    `healthcheck: ${probe}`,
    "",
  ].join("\n");
  process.stdout.write(`\n${text}`);
  mkdirSync("bench-results", { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  writeFileSync(join("bench-results", `pipeline-${stamp}.txt`), text);
  writeFileSync(
    join("bench-results", `pipeline-${stamp}.json`),
    JSON.stringify({ results, ratios }, null, 2),
  );
} finally {
  await execa("node", ["bench/touch-app.mjs", "--restore"]);
  rmSync(dir, { recursive: true, force: true });
}
