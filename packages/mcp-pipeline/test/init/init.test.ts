import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../../src/ci/config/load.js";
import {
  CONFIG_FILE,
  initRepository,
  renderInitResult,
  WORKFLOW_FILE,
} from "../../src/init/init.js";

const scratch = mkdtempSync(join(tmpdir(), "init-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function repository(name: string, files: Record<string, string>): string {
  const dir = join(scratch, name);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(dir, file, ".."), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  return dir;
}

const MCP_SERVER = {
  "package.json": '{"name":"notes","dependencies":{"@modelcontextprotocol/sdk":"1.32.2"}}',
  Dockerfile: 'FROM node:24-slim\nUSER 1000\nEXPOSE 3000\nHEALTHCHECK CMD ["node","health.js"]\n',
  "docker-compose.yml":
    "services:\n  notes:\n    build: .\n    ports: ['8080:3000']\n  redis:\n    image: redis:7\n",
};

describe("init", () => {
  it("writes a configuration the pipeline loads, naming the compose service, its port and the MCP path", async () => {
    const dir = repository("Notes Server", MCP_SERVER);
    const result = await initRepository(dir, { force: false, dryRun: false });
    expect(result.files.map((f) => [f.path, f.outcome])).toEqual([
      [CONFIG_FILE, "written"],
      [WORKFLOW_FILE, "written"],
    ]);
    const text = readFileSync(join(dir, CONFIG_FILE), "utf8");
    expect(text.split("\n")[0]).toBe(
      "# yaml-language-server: $schema=./node_modules/mcp-pipeline/schema/pipeline.config.schema.json",
    );
    const config = loadConfig({ cwd: dir, env: {} });
    expect(config.image.name).toBe("notes-server");
    expect(config.compose).toMatchObject({
      file: "docker-compose.yml",
      service: "notes",
      port: 3000,
    });
    expect(config.mcp?.path).toBe("/mcp");
    expect(config.mcp?.revisions).toEqual(["2025-11-25"]);
    expect(text).toContain("An MCP server (package.json depends on @modelcontextprotocol/sdk)");
  });

  it("writes a workflow that calls the package's reusable workflow at its major version", async () => {
    const dir = repository("workflow", MCP_SERVER);
    await initRepository(dir, { force: false, dryRun: false });
    const workflow = parse(readFileSync(join(dir, WORKFLOW_FILE), "utf8"));
    const uses = "mcp-pipeline/mcp-pipeline/.github/workflows/pipeline.yml@v1";
    expect(workflow.jobs.verify.uses).toBe(uses);
    expect(workflow.jobs.publish.uses).toBe(uses);
    // Pull requests get no write scope that could publish or sign.
    expect(workflow.jobs.verify.if).toBe("github.event_name == 'pull_request'");
    expect(workflow.jobs.verify.permissions).not.toHaveProperty("packages");
    expect(workflow.jobs.verify.permissions).not.toHaveProperty("id-token");
    expect(workflow.jobs.publish.permissions).toMatchObject({
      packages: "write",
      "id-token": "write",
    });
    expect(Object.keys(workflow.on)).toEqual(["pull_request", "push"]);
  });

  it("leaves a plain HTTP service without an mcp section, and says what the gates will find", async () => {
    const dir = repository("plain", {
      Dockerfile: "FROM python:3.13-slim\nEXPOSE 8000\n",
      "compose.yaml": "services:\n  web:\n    build: .\n",
    });
    const result = await initRepository(dir, { force: false, dryRun: false });
    const config = loadConfig({ cwd: dir, env: {} });
    expect(config.mcp).toBeUndefined();
    expect(config.compose).toMatchObject({ file: "compose.yaml", service: "web", port: 8000 });
    expect(result.notes.join("\n")).toMatch(
      /runs as root \(USER unset\): the non-root gate will fail/,
    );
    expect(result.notes.join("\n")).toMatch(
      /declares no HEALTHCHECK: the healthcheck gate will fail/,
    );
  });

  it("keeps files that exist unless forced, and writes nothing on a dry run", async () => {
    const dir = repository("kept", { ...MCP_SERVER, [CONFIG_FILE]: "image: { name: mine }\n" });
    const dry = await initRepository(dir, { force: false, dryRun: true });
    expect(dry.files.map((f) => f.outcome)).toEqual(["would write", "would write"]);
    expect(existsSync(join(dir, WORKFLOW_FILE))).toBe(false);
    expect(renderInitResult(dry)).toContain(`--- ${CONFIG_FILE}`);
    const kept = await initRepository(dir, { force: false, dryRun: false });
    expect(kept.files.map((f) => f.outcome)).toEqual(["exists", "written"]);
    expect(readFileSync(join(dir, CONFIG_FILE), "utf8")).toBe("image: { name: mine }\n");
    const forced = await initRepository(dir, { force: true, dryRun: false });
    expect(forced.files.map((f) => f.outcome)).toEqual(["written", "written"]);
    expect(loadConfig({ cwd: dir, env: {} }).image.name).toBe("kept");
  });

  it("claims the revisions the corpus apps were measured to speak, saying why", async () => {
    for (const app of ["node-mcp-everything", "python-mcp-notes"]) {
      const corpus = join(import.meta.dirname, "../corpus", app);
      const result = await initRepository(corpus, { force: false, dryRun: true });
      const written = parse(result.files[0]?.text ?? "");
      const measured = parse(readFileSync(join(corpus, CONFIG_FILE), "utf8"));
      expect(written.mcp.revisions, app).toEqual(measured.mcp.revisions);
    }
    const v1 = await initRepository(join(import.meta.dirname, "../corpus/node-mcp-everything"), {
      force: false,
      dryRun: true,
    });
    expect(v1.files[0]?.text).toContain(
      '  # package-lock.json: @modelcontextprotocol/sdk 1.32.2, the v1 SDK, implements up to 2025-11-25.\n  revisions: ["2025-11-25"]\n',
    );
  });

  it("leaves mcp.revisions at its default with a comment when the SDK line cannot be read", async () => {
    const dir = repository("unknown-line", {
      ...MCP_SERVER,
      "package.json": '{"dependencies":{"@modelcontextprotocol/server-memory":"2026.8.1"}}',
    });
    await initRepository(dir, { force: false, dryRun: false });
    const text = readFileSync(join(dir, CONFIG_FILE), "utf8");
    expect(text).toMatch(/# mcp\.revisions is left at its default: which SDK line/);
    expect(loadConfig({ cwd: dir, env: {} }).mcp?.revisions).toEqual(["2026-07-28", "2025-11-25"]);
  });

  it("says there is nothing to build without a Dockerfile", async () => {
    const dir = repository("empty", { "README.md": "hello\n" });
    const result = await initRepository(dir, { force: false, dryRun: true });
    expect(result.notes).toEqual([
      "no Dockerfile here: write one (or set image.dockerfile) before the first run",
    ]);
  });
});
