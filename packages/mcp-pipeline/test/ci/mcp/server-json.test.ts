import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Config, UPSTREAM_OCI_REGISTRIES } from "../../../src/ci/config/schema.js";
import {
  bracketPath,
  bumpServerJson,
  CURRENT_SCHEMA_URL,
  labelProblem,
  type RegistryProblem,
  readServerName,
  registryAllowed,
  registryEntryUrl,
  releaseProblems,
  type ServerFacts,
  validateServerJson,
} from "../../../src/ci/mcp/server-json.js";
import { REPO_ROOT } from "../../paths.js";

// The repository's own server.json is the control: every variant below is it with one defect.
const original = JSON.parse(readFileSync(join(REPO_ROOT, "server.json"), "utf8")) as Record<
  string,
  unknown
>;
type Doc = Record<string, unknown> & { packages: Record<string, unknown>[] };
const doc = (): Doc => structuredClone(original) as Doc;
const firstPackage = (d: Doc): Record<string, unknown> => {
  const pkg = d.packages[0];
  if (!pkg) throw new Error("server.json has no package");
  return pkg;
};
const upstream = { allowedRegistries: UPSTREAM_OCI_REGISTRIES };
const check = (d: unknown, rules = upstream) =>
  validateServerJson(typeof d === "string" ? d : JSON.stringify(d), rules);
const problems = (d: unknown, rules = upstream): RegistryProblem[] => check(d, rules).problems;
const at = (list: RegistryProblem[]) => list.map((p) => p.at);

describe("server.json against the MCP Registry's rules", () => {
  it("passes the repository's own server.json: the control for every variant below", () => {
    const result = check(doc());
    expect(result.problems).toEqual([]);
    expect(result.server).toEqual({
      name: "io.github.mcp-pipeline/mcp-pipeline",
      version: "0.1.0",
      oci: [
        {
          index: 0,
          identifier: "ghcr.io/mcp-pipeline/mcp-pipeline:0.1.0",
          registry: "ghcr.io",
          repository: "ghcr.io/mcp-pipeline/mcp-pipeline",
          tag: "0.1.0",
          digest: undefined,
        },
      ],
    } satisfies ServerFacts);
  });

  it("fails text that is not JSON, or JSON that is not an object", () => {
    expect(problems("{ nope")[0]?.message).toMatch(/^is not JSON: /);
    expect(problems("[1]")).toEqual([
      { at: "", message: "must be a JSON object", source: "registry" },
    ]);
    expect(check("[1]").server).toBeUndefined();
  });

  it("fails a missing $schema, naming the current one, and a $schema the gate cannot validate against", () => {
    const none = doc();
    delete none.$schema;
    expect(problems(none)).toEqual([
      {
        at: "$schema",
        message: `is required: set it to ${CURRENT_SCHEMA_URL}`,
        source: "registry",
      },
    ]);
    const older = {
      ...doc(),
      $schema: "https://static.modelcontextprotocol.io/schemas/2025-10-17/server.schema.json",
    };
    const [problem] = problems(older);
    expect(problem?.source).toBe("pipeline");
    expect(problem?.message).toMatch(/2025-10-17.* is not the schema this gate validates against/);
  });

  it("fails what the JSON Schema refuses, at the field's path: a missing description, a long one, a bad transport", () => {
    const missing = doc();
    delete missing.description;
    expect(problems(missing)).toEqual([
      { at: "", message: "must have required property 'description'", source: "registry" },
    ]);
    expect(at(problems({ ...doc(), description: "x".repeat(101) }))).toEqual(["description"]);
    const transport = doc();
    firstPackage(transport).transport = { type: "carrier-pigeon" };
    expect(at(problems(transport))).toContain("packages[0].transport");
  });

  it("fails server names the registry refuses, saying which part is wrong", () => {
    const named = (name: string) => problems({ ...doc(), name }).filter((p) => p.at === "name");
    expect(named("no-slash").map((p) => p.message)).toContain(
      "must be `namespace/name` in reverse-DNS form, e.g. io.github.owner/repo",
    );
    expect(named("io.github.a/b/c").map((p) => p.message)).toContain(
      "must contain exactly one `/`",
    );
    expect(
      named("-io.github.a/server")
        .map((p) => p.message)
        .join(),
    ).toMatch(/namespace "-io.github.a" must start and end/);
    expect(
      named("io.github.a/server_")
        .map((p) => p.message)
        .join(),
    ).toMatch(/name "server_" must start and end/);
    expect(named("io.github.a/server.v2")).toEqual([]);
  });

  it("fails `latest` and version ranges, and passes exact versions", () => {
    for (const version of [
      "latest",
      "^1.2.3",
      "~1.2.3",
      ">=1.0.0",
      "1.x",
      "1.2.*",
      "1.2 || 1.3",
      "1.0.0 - 2.0.0",
    ]) {
      expect(at(problems({ ...doc(), version })), version).toContain("version");
    }
    for (const version of ["1.2.3", "2.0.0-rc.1", "0.1.0", "2026.12.2"]) {
      expect(problems({ ...doc(), version }), version).toEqual([]);
    }
  });

  it("fails a repository URL that is not of its source", () => {
    const d = { ...doc(), repository: { url: "https://example.com/a/b", source: "github" } };
    expect(problems(d)).toEqual([
      {
        at: "repository.url",
        message:
          '"https://example.com/a/b" is not a github repository URL (https://github.com/owner/repo)',
        source: "registry",
      },
    ]);
  });

  it("fails an OCI package with version, registryBaseUrl or fileSha256, as the registry does", () => {
    for (const [field, value] of [
      ["version", "0.1.0"],
      ["registryBaseUrl", "https://ghcr.io"],
      ["fileSha256", "a".repeat(64)],
    ] as const) {
      const d = doc();
      firstPackage(d)[field] = value;
      const found = problems(d);
      expect(found, field).toHaveLength(1);
      expect(found[0]?.at).toBe(`packages[0].${field}`);
      expect(found[0]?.source).toBe("registry");
      expect(found[0]?.message).toMatch(/^OCI packages must not have /);
    }
  });

  it("fails an identifier that is not an image reference", () => {
    for (const identifier of [
      "ghcr.io/Owner/Repo:1.0.0",
      "ghcr.io/a b:1",
      "ghcr.io/a/b:-bad",
      "ghcr.io/a/b@md5:xyz",
      "",
    ]) {
      const d = doc();
      firstPackage(d).identifier = identifier;
      expect(at(problems(d)), identifier).toContain("packages[0].identifier");
    }
  });

  it("fails an identifier on a registry outside the allowlist, and passes it once the list allows it", () => {
    const d = doc();
    firstPackage(d).identifier = "registry.example.com/team/todo:0.1.0";
    const [problem] = problems(d);
    expect(problem?.at).toBe("packages[0].identifier");
    expect(problem?.message).toMatch(
      /^registry\.example\.com is not an OCI registry the MCP Registry accepts \(docker\.io, .*\); .*mcp\.registry\.allowedRegistries/,
    );
    expect(problems(d, { allowedRegistries: ["registry.example.com"] })).toEqual([]);
    expect(problems(d, { allowedRegistries: ["*.example.com"] })).toEqual([]);
  });

  it("reads registries as the registry does: Docker Hub by any of its names, the *.pkg.dev and *.azurecr.io patterns", () => {
    expect(registryAllowed("index.docker.io", ["docker.io"])).toBe(true);
    expect(registryAllowed("docker.io", UPSTREAM_OCI_REGISTRIES)).toBe(true);
    expect(registryAllowed("europe-west1-docker.pkg.dev", UPSTREAM_OCI_REGISTRIES)).toBe(true);
    expect(registryAllowed("team.azurecr.io", UPSTREAM_OCI_REGISTRIES)).toBe(true);
    expect(registryAllowed("pkg.dev.evil.com", UPSTREAM_OCI_REGISTRIES)).toBe(false);
    expect(registryAllowed("localhost:5000", UPSTREAM_OCI_REGISTRIES)).toBe(false);
    const hub = doc();
    firstPackage(hub).identifier = "mcp/todo:0.1.0";
    expect(check(hub).server?.oci[0]).toMatchObject({
      registry: "index.docker.io",
      repository: "docker.io/mcp/todo",
    });
  });

  it("fails a transport URL whose {variable} the package does not define, and passes once it does", () => {
    const d = doc();
    const pkg = firstPackage(d);
    pkg.transport = { type: "streamable-http", url: "http://localhost:{port}/mcp" };
    expect(problems(d)).toEqual([
      {
        at: "packages[0].transport.url",
        message: "uses {port}, which no environment variable or argument of the package defines",
        source: "registry",
      },
    ]);
    pkg.runtimeArguments = [{ type: "named", name: "-p", valueHint: "port", value: "{port}:3000" }];
    expect(problems(d)).toEqual([]);
  });

  it("fails a server.json that lists no OCI package: the image would not be what the registry lists", () => {
    const d = doc();
    d.packages = [
      {
        registryType: "npm",
        identifier: "@example/todo",
        version: "0.1.0",
        transport: { type: "stdio" },
      },
    ];
    expect(problems(d)).toEqual([expect.objectContaining({ at: "packages", source: "pipeline" })]);
    expect(check(d).server?.oci).toEqual([]);
  });
});

describe("server.json against the release", () => {
  const server = check(doc()).server as ServerFacts;
  const publishing = {
    repository: "ghcr.io/mcp-pipeline/mcp-pipeline",
    tags: ["0.1.0", "0.1", "latest"],
  };

  it("passes a release of server.json's version that publishes its identifier (the control)", () => {
    expect(releaseProblems(server, { release: { version: "0.1.0" }, publishing })).toEqual([]);
  });

  it("compares nothing when the run is not a release", () => {
    expect(releaseProblems(server, { release: undefined, publishing })).toEqual([]);
  });

  it("fails a release whose version is not server.json's", () => {
    const found = releaseProblems(server, { release: { version: "0.2.0" }, publishing: undefined });
    expect(found).toEqual([
      {
        at: "version",
        message:
          "is 0.1.0, but this run releases 0.2.0: set version (and the identifier's tag) to 0.2.0 before tagging",
        source: "pipeline",
      },
    ]);
  });

  it("fails a release that publishes somewhere other than the identifier", () => {
    const found = releaseProblems(server, {
      release: { version: "0.1.0" },
      publishing: { ...publishing, repository: "127.0.0.1:5000/pipeline-e2e-abc" },
    });
    expect(found.map((p) => p.message)).toEqual([
      "names ghcr.io/mcp-pipeline/mcp-pipeline, but this release publishes to 127.0.0.1:5000/pipeline-e2e-abc: the registry would check an image this run does not publish",
    ]);
  });

  it("fails a release that does not push the identifier's tag", () => {
    const found = releaseProblems(server, {
      release: { version: "0.1.0" },
      publishing: { ...publishing, tags: ["0.1.1", "0.1"] },
    });
    expect(found[0]?.message).toBe(
      "names the tag 0.1.0, which this release does not push (it pushes 0.1.1, 0.1)",
    );
  });

  it("fails a release whose identifier pins a digest, which cannot be the image it is about to publish", () => {
    const d = doc();
    firstPackage(d).identifier = `ghcr.io/mcp-pipeline/mcp-pipeline@sha256:${"a".repeat(64)}`;
    const pinned = check(d).server as ServerFacts;
    const [found] = releaseProblems(pinned, { release: { version: "0.1.0" }, publishing });
    expect(found?.message).toMatch(
      /^pins the digest sha256:a+, which cannot be this release's image/,
    );
  });
});

describe("the server name label", () => {
  const name = "io.github.mcp-pipeline/mcp-pipeline";

  it("passes a label equal to server.json's name", () => {
    expect(labelProblem({ "io.modelcontextprotocol.server.name": name }, name)).toBeUndefined();
  });

  it("fails no labels, a missing label, an empty one and another name", () => {
    expect(labelProblem(null, name)).toBe(
      "the image has no io.modelcontextprotocol.server.name label",
    );
    expect(labelProblem({ other: "x" }, name)).toBe(
      "the image has no io.modelcontextprotocol.server.name label",
    );
    expect(labelProblem({ "io.modelcontextprotocol.server.name": "" }, name)).toBe(
      "the image has no io.modelcontextprotocol.server.name label (it is empty)",
    );
    expect(labelProblem({ "io.modelcontextprotocol.server.name": "io.github.x/y" }, name)).toBe(
      'the image\'s io.modelcontextprotocol.server.name label is "io.github.x/y", not server.json\'s name "io.github.mcp-pipeline/mcp-pipeline"',
    );
  });
});

describe("reading server.json's name for the build", () => {
  const dir = mkdtempSync(join(tmpdir(), "server-json-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const mcpConfig = Config.parse({ image: { name: "x" }, mcp: {} }) as Config;

  it("reads the name when the image is an MCP server with a server.json", () => {
    writeFileSync(join(dir, "server.json"), JSON.stringify(doc()));
    expect(readServerName(dir, mcpConfig)).toBe("io.github.mcp-pipeline/mcp-pipeline");
  });

  it("gives none without an mcp section, without the file, or without a string name", () => {
    writeFileSync(join(dir, "server.json"), JSON.stringify(doc()));
    expect(readServerName(dir, Config.parse({ image: { name: "x" } }) as Config)).toBeUndefined();
    const elsewhere = Config.parse({
      image: { name: "x" },
      mcp: { registry: { serverJson: "absent.json" } },
    }) as Config;
    expect(readServerName(dir, elsewhere)).toBeUndefined();
    writeFileSync(join(dir, "server.json"), "{ nope");
    expect(readServerName(dir, mcpConfig)).toBeUndefined();
    writeFileSync(join(dir, "server.json"), JSON.stringify({ name: 7 }));
    expect(readServerName(dir, mcpConfig)).toBeUndefined();
  });
});

describe("bumping server.json for a release", () => {
  it("sets the version and retags identifiers tagged with the old version, keeping digests and other tags", () => {
    const d = doc();
    d.packages.push(
      { registryType: "oci", identifier: "ghcr.io/o/r:edge", transport: { type: "stdio" } },
      {
        registryType: "oci",
        identifier: `ghcr.io/o/r@sha256:${"b".repeat(64)}`,
        transport: { type: "stdio" },
      },
      { registryType: "npm", identifier: "0.1.0", transport: { type: "stdio" } },
    );
    const bumped = JSON.parse(bumpServerJson(JSON.stringify(d), "0.2.0") ?? "null") as Doc;
    expect(bumped.version).toBe("0.2.0");
    expect(bumped.packages.map((p) => p.identifier)).toEqual([
      "ghcr.io/mcp-pipeline/mcp-pipeline:0.2.0",
      "ghcr.io/o/r:edge",
      `ghcr.io/o/r@sha256:${"b".repeat(64)}`,
      "0.1.0",
    ]);
  });

  it("leaves a file that is not a server.json with a version alone", () => {
    expect(bumpServerJson("{ nope", "1.0.0")).toBeUndefined();
    expect(bumpServerJson(JSON.stringify({ name: "a/b" }), "1.0.0")).toBeUndefined();
  });
});

describe("helpers", () => {
  it("writes JSON pointers as the registry writes paths", () => {
    expect(bracketPath("/packages/0/transport/url")).toBe("packages[0].transport.url");
    expect(bracketPath("")).toBe("");
    expect(bracketPath("/_meta/a~1b")).toBe("_meta.a/b");
  });

  it("links a version's entry in the registry's API", () => {
    expect(registryEntryUrl("io.github.o/r", "1.2.3")).toBe(
      "https://registry.modelcontextprotocol.io/v0.1/servers/io.github.o%2Fr/versions/1.2.3",
    );
  });
});
