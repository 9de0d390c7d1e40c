import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  detectMcp,
  imageName,
  nodeSdkLine,
  pythonSdkLine,
  readCompose,
  readDockerfile,
} from "../../src/init/detect.js";

const dir = mkdtempSync(join(tmpdir(), "detect-mcp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const inDir = (files: Record<string, string>) => {
  const path = mkdtempSync(join(dir, "repo-"));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(path, file), text);
  return path;
};

describe("readDockerfile", () => {
  it("reads the final stage: its EXPOSEd ports, USER and HEALTHCHECK, joining continued lines", () => {
    const facts = readDockerfile(
      [
        "FROM node:24 AS build",
        "USER root",
        "EXPOSE 9999",
        "HEALTHCHECK CMD true",
        "FROM gcr.io/distroless/nodejs24 AS runtime",
        "# a comment",
        "EXPOSE 8080/tcp \\",
        "       9090",
        "USER 1000:1000",
        "HEALTHCHECK --interval=5s \\",
        '  CMD ["node", "/app/health.js"]',
      ].join("\n"),
    );
    expect(facts).toEqual({
      stages: ["build", "runtime"],
      expose: [8080, 9090],
      user: "1000:1000",
      healthcheck: true,
    });
  });

  it("takes HEALTHCHECK NONE for no health check, and a port it cannot read for none", () => {
    const facts = readDockerfile("FROM x\nEXPOSE ${PORT}\nHEALTHCHECK NONE\n");
    expect(facts).toMatchObject({ expose: [], user: undefined, healthcheck: false });
  });
});

describe("readCompose", () => {
  it("finds the service built from the repository's Dockerfile and its container port", () => {
    const text = [
      "services:",
      "  db:",
      "    image: postgres:17",
      "  api:",
      "    build: { context: ., dockerfile: Dockerfile }",
      '    ports: ["127.0.0.1:8000:3000/tcp"]',
    ].join("\n");
    expect(readCompose("compose.yaml", text, "Dockerfile")).toEqual({
      file: "compose.yaml",
      services: ["db", "api"],
      service: "api",
      port: 3000,
    });
  });

  it("reads long-syntax ports, and finds no service when none builds this Dockerfile", () => {
    const long =
      "services:\n  web:\n    build: .\n    ports:\n      - target: 8080\n        published: 80\n";
    expect(readCompose("c.yml", long, "Dockerfile")).toMatchObject({ service: "web", port: 8080 });
    const other = "services:\n  web:\n    build: ./web\n";
    expect(readCompose("c.yml", other, "Dockerfile")).toMatchObject({ service: undefined });
  });
});

describe("detectMcp", () => {
  it("takes a Node project depending on an MCP SDK for an MCP server, naming the dependency", () => {
    expect(
      detectMcp(
        inDir({ "package.json": '{"dependencies":{"@modelcontextprotocol/sdk":"1.0.0"}}' }),
      ),
    ).toMatchObject({
      evidence: "package.json depends on @modelcontextprotocol/sdk",
    });
  });

  it("takes a Python project naming mcp or fastmcp for one, and not a package that only starts with mcp", () => {
    expect(
      detectMcp(inDir({ "pyproject.toml": '[project]\ndependencies = [\n  "fastmcp>=2",\n]\n' }))
        .evidence,
    ).toBe("pyproject.toml names fastmcp");
    expect(detectMcp(inDir({ "requirements.txt": "mcp[cli]==1.2.0\n" })).evidence).toBe(
      "requirements.txt names mcp",
    );
    expect(
      detectMcp(inDir({ "requirements.txt": "mcp-utils==1.0\nflask\n" })).evidence,
    ).toBeUndefined();
  });

  it("takes a package that ships a published MCP server for one", () => {
    expect(
      detectMcp(
        inDir({
          "package.json":
            '{"dependencies":{"@modelcontextprotocol/server-everything":"2026.8.31"}}',
        }),
      ),
    ).toMatchObject({
      evidence: "package.json depends on @modelcontextprotocol/server-everything",
    });
    // The conformance suite or the inspector make a repository no server.
    expect(
      detectMcp(
        inDir({
          "package.json": '{"devDependencies":{"@modelcontextprotocol/conformance":"0.1.16"}}',
        }),
      ).evidence,
    ).toBeUndefined();
  });

  it("finds nothing in a plain HTTP service", () => {
    expect(
      detectMcp(inDir({ "package.json": '{"dependencies":{"express":"5.0.0"}}' })).evidence,
    ).toBeUndefined();
  });
});

describe("the SDK line and the revisions it speaks", () => {
  const manifest = (deps: Record<string, string>) => JSON.stringify({ dependencies: deps });
  const lock = (packages: Record<string, string>) =>
    JSON.stringify({
      lockfileVersion: 3,
      packages: Object.fromEntries(
        Object.entries(packages).map(([path, version]) => [path, { version }]),
      ),
    });

  it("claims only 2025-11-25 for a Node server on the v1 SDK, from package.json's range", () => {
    expect(nodeSdkLine(manifest({ "@modelcontextprotocol/sdk": "^1.32.2" }), "")).toEqual({
      revisions: ["2025-11-25"],
      why: "package.json (^1.32.2): @modelcontextprotocol/sdk 1.32.2, the v1 SDK, implements up to 2025-11-25",
    });
  });

  it("claims both revisions for a Node server on the v2 SDK, even beside the v1 package", () => {
    expect(
      nodeSdkLine(manifest({ "@modelcontextprotocol/server": "2.4.0" }), "")?.revisions,
    ).toEqual(["2026-07-28", "2025-11-25"]);
    const both = manifest({
      "@modelcontextprotocol/sdk": "1.32.2",
      "@modelcontextprotocol/server": "2.4.0",
    });
    expect(nodeSdkLine(both, "")?.revisions).toEqual(["2026-07-28", "2025-11-25"]);
  });

  it("reads the lockfile, which sees the v1 SDK a published server brings in", () => {
    const pkg = manifest({ "@modelcontextprotocol/server-everything": "2026.8.31" });
    // The control: package.json alone does not say which SDK server-everything runs on.
    expect(nodeSdkLine(pkg, "")).toBeUndefined();
    const locked = lock({
      "": "1.0.0",
      "node_modules/@modelcontextprotocol/server-everything": "2026.8.31",
      "node_modules/@modelcontextprotocol/sdk": "1.32.2",
    });
    expect(nodeSdkLine(pkg, locked)?.why).toBe(
      "package-lock.json: @modelcontextprotocol/sdk 1.32.2, the v1 SDK, implements up to 2025-11-25",
    );
  });

  it("falls back to package.json's range when the lockfile cannot be read", () => {
    const pkg = manifest({ "@modelcontextprotocol/sdk": "^1.20.0" });
    expect(nodeSdkLine(pkg, "<<<<<<< HEAD\n{")?.why).toBe(
      "package.json (^1.20.0): @modelcontextprotocol/sdk 1.20.0, the v1 SDK, implements up to 2025-11-25",
    );
  });

  it("claims only 2025-11-25 for a Python server on mcp 1.x, and both on mcp 2.x", () => {
    const v1 = { revisions: ["2025-11-25"] };
    const v2 = { revisions: ["2026-07-28", "2025-11-25"] };
    expect(pythonSdkLine({ "requirements.txt": "mcp[cli]==1.26.0\n" })).toMatchObject(v1);
    expect(pythonSdkLine({ "pyproject.toml": 'dependencies = ["mcp>=1.2,<2"]\n' })).toMatchObject(
      v1,
    );
    expect(pythonSdkLine({ "requirements.txt": "mcp~=2.1\n" })).toMatchObject(v2);
    expect(
      pythonSdkLine({ "pyproject.toml": '[project]\ndependencies = [\n  "mcp>=2.0",\n]\n' }),
    ).toMatchObject(v2);
  });

  it("prefers the version uv.lock resolves, which also tells for FastMCP", () => {
    const files = {
      "pyproject.toml": 'dependencies = ["fastmcp"]\n',
      "uv.lock": '[[package]]\nname = "mcp"\nversion = "1.26.0"\nsource = { registry = "x" }\n',
    };
    expect(pythonSdkLine(files)).toEqual({
      revisions: ["2025-11-25"],
      why: "uv.lock resolves mcp 1.26.0: mcp 1.x, the v1 SDK, implements up to 2025-11-25",
    });
  });

  it("cannot tell from a Python requirement that allows both lines, or none that names mcp", () => {
    expect(pythonSdkLine({ "requirements.txt": "mcp>=1.2\n" })).toBeUndefined();
    expect(pythonSdkLine({ "pyproject.toml": 'dependencies = ["fastmcp>=2"]\n' })).toBeUndefined();
    expect(pythonSdkLine({ "requirements.txt": "mcp-utils==1.0\n" })).toBeUndefined();
  });

  it("leaves the revisions to the default and says why when it cannot tell the line", () => {
    const facts = detectMcp(
      inDir({ "package.json": manifest({ "@modelcontextprotocol/server-memory": "2026.8.1" }) }),
    );
    expect(facts.evidence).toBe("package.json depends on @modelcontextprotocol/server-memory");
    expect(facts.revisions).toBeUndefined();
    expect(facts.revisionsWhy).toMatch(/could not be read from the repository/);
  });
});

describe("imageName", () => {
  it("makes a valid image name from a directory name", () => {
    expect(imageName("/src/My Server_v2.")).toBe("my-server_v2");
    expect(imageName("/src/---")).toBe("app");
  });
});
