// `npm run bench`'s "after an app source change": a new comment line at the end of one app
// source file (a different one each time, so the image really changes); `--restore` puts the
// file back as it was.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";

const file = "app/mcp/server.ts";
const saved = ".bench-original-server.ts";
if (process.argv[2] === "--restore") {
  if (existsSync(saved)) {
    writeFileSync(file, readFileSync(saved));
    rmSync(saved);
  }
} else {
  if (!existsSync(saved)) writeFileSync(saved, readFileSync(file));
  writeFileSync(file, `${readFileSync(saved, "utf8")}// bench ${Date.now()}\n`);
}
