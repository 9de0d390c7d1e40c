// `npm run bench`'s "after an app source change": one statement that survives bundling (a
// comment or an unused export would be dropped, leaving the image unchanged) appended to an
// app source file, different every time; `--restore` puts the file back as it was.
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
  writeFileSync(
    file,
    `${readFileSync(saved, "utf8")}(globalThis as Record<string, unknown>).__benchBuild = "${Date.now()}";\n`,
  );
}
