import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ToolchainError, ToolchainErrorCode } from "../host/errors.js";
import { run } from "../host/exec.js";
import { sha256File } from "./checksums.js";
import { download } from "./download.js";
import { goBinary } from "./go.js";

/** Go's module path escaping for proxy URLs: each upper-case letter becomes `!` + lower case. */
export function escapeModulePath(module: string): string {
  return module.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}

/** The first HTTP(S) entry of `go env GOPROXY` (entries are separated by `,` or `|`). */
export async function goProxyUrl(env: NodeJS.ProcessEnv): Promise<string> {
  const value = await run(goBinary(env), ["env", "GOPROXY"], { env });
  const url = value.split(/[,|]/).find((entry) => /^https?:\/\//.test(entry.trim()));
  if (!url) {
    throw new ToolchainError(
      ToolchainErrorCode.Unsupported,
      `GOPROXY (${value || "empty"}) names no HTTP module proxy to fetch a module zip from.`,
      { hint: "Set GOPROXY to your module proxy, e.g. https://proxy.golang.org." },
    );
  }
  return url.trim().replace(/\/+$/, "");
}

export interface ModuleZip {
  module: string;
  version: string;
  sha256: string;
}

/**
 * Fetches a module's zip through the module proxy protocol
 * (`$GOPROXY/<module>/@v/v<version>.zip`), checks it against a pinned sha256,
 * and unpacks it under `destDir`. Returns the module's source directory. For
 * versions `go` cannot download itself (the proxy refuses their go.mod), so
 * neither go.sum nor the checksum database vouches for them: the pin does.
 */
export async function fetchModuleZip(
  zip: ModuleZip,
  opts: { downloads: string; destDir: string; env: NodeJS.ProcessEnv; note(text: string): void },
): Promise<string> {
  const name = `${zip.module.replaceAll("/", "_")}@v${zip.version}.zip`;
  const file = join(opts.downloads, name);
  const sourceDir = join(opts.destDir, `${zip.module}@v${zip.version}`);
  if (existsSync(join(sourceDir, "go.mod"))) return sourceDir;
  if (!existsSync(file) || (await sha256File(file)) !== zip.sha256) {
    const url = `${await goProxyUrl(opts.env)}/${escapeModulePath(zip.module)}/@v/v${zip.version}.zip`;
    opts.note(`download ${url}`);
    await download(url, `${file}.part`);
    const actual = await sha256File(`${file}.part`);
    if (actual !== zip.sha256) {
      rmSync(`${file}.part`, { force: true });
      throw new ToolchainError(
        ToolchainErrorCode.ChecksumMismatch,
        `${url} does not match its pinned sha256: expected ${zip.sha256}, got ${actual}. Nothing was unpacked.`,
        { hint: "The module proxy served different bytes for this version; check GOPROXY." },
      );
    }
    renameSync(`${file}.part`, file);
  }
  opts.note(`unzip ${name}`);
  mkdirSync(opts.destDir, { recursive: true });
  const tmp = mkdtempSync(join(opts.destDir, ".unzip-"));
  try {
    await run("unzip", ["-q", file, "-d", tmp], { env: opts.env });
    rmSync(sourceDir, { recursive: true, force: true });
    mkdirSync(join(sourceDir, ".."), { recursive: true });
    renameSync(join(tmp, `${zip.module}@v${zip.version}`), sourceDir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return sourceDir;
}
