import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ToolchainErrorCode } from "../../src/host/errors.js";
import { sha256Of } from "../../src/toolchain/checksums.js";
import type { StepContext } from "../../src/toolchain/context.js";
import { downloadVerified } from "../../src/toolchain/download.js";
import type { ReleaseAsset } from "../../src/toolchain/releases.js";
import { loadSettings, toolchainPaths } from "../../src/toolchain/settings.js";
import { readProvenance } from "../../src/toolchain/state.js";
import { installRelease } from "../../src/toolchain/steps/go-tools.js";
import { toolchainFailure } from "./helpers.js";

// A release host on loopback, serving what each test puts in `files` (path → body, or a status).
const files = new Map<string, string | number>();
const requests: string[] = [];
let server: Server;
let mirror: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? "");
    const body = files.get(req.url ?? "");
    if (body === undefined || typeof body === "number") {
      res.writeHead(typeof body === "number" ? body : 404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

const BINARY = "#!/bin/sh\necho tool 1.2.3\n";
const release: ReleaseAsset = {
  tool: "faketool",
  asset: "faketool-linux-amd64",
  url: "https://github.com/example/faketool/releases/download/v1.2.3/faketool-linux-amd64",
  checksumsUrl: "https://github.com/example/faketool/releases/download/v1.2.3/checksums.txt",
};
// Under DOWNLOAD_MIRROR, `https://host/path` is fetched as `<mirror>/host/path`.
const ASSET_PATH = "/github.com/example/faketool/releases/download/v1.2.3/faketool-linux-amd64";
const SUMS_PATH = "/github.com/example/faketool/releases/download/v1.2.3/checksums.txt";
const sums = (hash: string, name = release.asset) =>
  `${"0".repeat(64)}  faketool-darwin-arm64\n${hash}  ${name}\n`;

let root: string;
let scratch: string;
beforeEach(() => {
  files.clear();
  requests.length = 0;
  root = mkdtempSync(join(tmpdir(), "download-test-"));
  scratch = mkdtempSync(join(root, "scratch-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const verifyContext = () => ({
  mirror,
  scratch,
  env: process.env,
  logFile: join(root, "log"),
  note: () => {},
});

describe("downloadVerified", () => {
  it("returns the downloaded file and its provenance when its sha256 is the one listed", async () => {
    files.set(SUMS_PATH, sums(sha256Of(BINARY)));
    files.set(ASSET_PATH, BINARY);
    const { file, provenance } = await downloadVerified(release, verifyContext());
    expect(readFileSync(file, "utf8")).toBe(BINARY);
    expect(provenance).toMatchObject({
      tool: "faketool",
      source: "release",
      sha256: sha256Of(BINARY),
      url: `${mirror}${ASSET_PATH}`,
      checksumSource: `${mirror}${SUMS_PATH}`,
    });
    // The checksums first: nothing is downloaded that could not be checked.
    expect(requests).toEqual([SUMS_PATH, ASSET_PATH]);
  });

  it("refuses a download whose sha256 differs, naming both hashes, and removes it", async () => {
    const listed = sha256Of("what the project released");
    files.set(SUMS_PATH, sums(listed));
    files.set(ASSET_PATH, BINARY);
    const error = await toolchainFailure(downloadVerified(release, verifyContext()));
    expect(error.code).toBe(ToolchainErrorCode.Integrity);
    expect(error.message).toContain(`expected ${listed}`);
    expect(error.message).toContain(`got ${sha256Of(BINARY)}`);
    expect(error.hint).toContain("Nothing was installed.");
    expect(readdirSync(scratch)).toEqual(["checksums.txt"]);
  });

  it("refuses an asset the checksums file does not list, before downloading it", async () => {
    files.set(SUMS_PATH, sums(sha256Of(BINARY), "faketool-linux-arm64"));
    files.set(ASSET_PATH, BINARY);
    const error = await toolchainFailure(downloadVerified(release, verifyContext()));
    expect(error.code).toBe(ToolchainErrorCode.Integrity);
    expect(error.message).toBe(
      `faketool-linux-amd64: no checksum for it in ${mirror}${SUMS_PATH}.`,
    );
    expect(requests).not.toContain(ASSET_PATH);
  });

  it("refuses to download anything when the checksums file is missing", async () => {
    files.set(ASSET_PATH, BINARY);
    const error = await toolchainFailure(downloadVerified(release, verifyContext()));
    expect(error.code).toBe(ToolchainErrorCode.Integrity);
    expect(error.message).toContain("its checksums file could not be fetched");
    expect(error.message).toContain("answered 404");
    expect(requests).toEqual([SUMS_PATH]);
  });

  it("reports a failed download as a failed command, not as tampering, after retrying", async () => {
    files.set(SUMS_PATH, sums(sha256Of(BINARY)));
    files.set(ASSET_PATH, 503);
    const error = await toolchainFailure(downloadVerified(release, verifyContext()));
    expect(error.code).toBe(ToolchainErrorCode.CommandFailed);
    expect(error.message).toContain(`download from ${mirror}${ASSET_PATH} failed`);
    expect(error.message).toContain("answered 503");
    // A 5xx is transient: three retries after the first try.
    expect(requests.filter((path) => path === ASSET_PATH)).toHaveLength(4);
  }, 20_000);
});

describe("installRelease", () => {
  const stepContext = (): StepContext => {
    const paths = toolchainPaths({ MCP_PIPELINE_CACHE: join(root, "cache") });
    return {
      paths,
      settings: loadSettings({ DOWNLOAD_MIRROR: mirror }),
      env: process.env,
      logFile: join(root, "log"),
      note: () => {},
      warn: () => {},
    } as Partial<StepContext> as StepContext;
  };

  it("puts the verified binary into bin/, executable, and records where it came from", async () => {
    files.set(SUMS_PATH, sums(sha256Of(BINARY)));
    files.set(ASSET_PATH, BINARY);
    const ctx = stepContext();
    await installRelease(ctx, release);
    expect(readFileSync(join(ctx.paths.bin, "faketool"), "utf8")).toBe(BINARY);
    expect(readProvenance(ctx.paths).faketool?.sha256).toBe(sha256Of(BINARY));
    expect(readdirSync(ctx.paths.downloads)).toEqual([]);
  });

  it("installs nothing, records nothing and leaves no scratch behind when the sha256 differs", async () => {
    files.set(SUMS_PATH, sums(sha256Of("something else")));
    files.set(ASSET_PATH, BINARY);
    const ctx = stepContext();
    await toolchainFailure(installRelease(ctx, release));
    expect(existsSync(join(ctx.paths.bin, "faketool"))).toBe(false);
    expect(readProvenance(ctx.paths).faketool).toBeUndefined();
    expect(readdirSync(ctx.paths.downloads)).toEqual([]);
  });
});
