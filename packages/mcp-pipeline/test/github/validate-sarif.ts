// The upload-sarif stand-in's validator, bundled with esbuild into the action's directory by the
// simulation (the runner has no node_modules of ours): validates a SARIF file against the
// SARIF 2.1.0 schema and copies it where the simulation keeps it. Exit 1 names the first errors.
import { copyFileSync, readFileSync } from "node:fs";
import { validateSarif } from "./sarif.js";

const [file, keep] = process.argv.slice(2);
if (!file || !keep) {
  process.stderr.write("usage: validate-sarif FILE KEEP_AS\n");
  process.exit(2);
}
const errors = validateSarif(JSON.parse(readFileSync(file, "utf8")));
if (errors.length > 0) {
  process.stderr.write(`::error::${file} is not valid SARIF 2.1.0: ${errors.join("; ")}\n`);
  process.exit(1);
}
copyFileSync(file, keep);
process.stdout.write(`${file}: valid SARIF 2.1.0, kept as ${keep}\n`);
