import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defaultImageName, findConfigFile, loadConfig } from "../../../src/ci/config/load.js";
import { Config, UPSTREAM_OCI_REGISTRIES } from "../../../src/ci/config/schema.js";
import { ConfigError } from "../../../src/ci/errors.js";

let cwd: string;

beforeEach(() => {
  cwd = mkdtempSync(path.join(tmpdir(), "pipeline-config-"));
});

afterEach(() => {
  rmSync(cwd, { recursive: true, force: true });
});

function write(name: string, content: string): void {
  writeFileSync(path.join(cwd, name), content);
}

/** Runs loadConfig expecting a ConfigError, and returns it. */
function configError(options: Partial<Parameters<typeof loadConfig>[0]>): ConfigError {
  try {
    loadConfig({ cwd, env: {}, ...options });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected loadConfig to throw");
}

describe("loadConfig defaults", () => {
  it("gives every field its default when nothing is configured", () => {
    expect(loadConfig({ cwd, env: {} })).toEqual({
      image: {
        name: defaultImageName(cwd, "."),
        dockerfile: "Dockerfile",
        context: ".",
        platforms: ["linux/amd64", "linux/arm64"],
        buildArgs: {},
        runEnv: {},
      },
      sizeBudget: { uncompressedMB: 150 },
      health: { timeoutSeconds: 60 },
      trivy: { severities: ["HIGH", "CRITICAL"], ignoreFile: ".trivyignore", ignoreUnfixed: false },
      compose: { file: "docker-compose.yml", timeoutSeconds: 120 },
      registry: {},
      sign: { enabled: true },
      tags: { publishOnPullRequest: false, latest: true, extra: [] },
      reportDir: "pipeline-report",
    });
  });

  it("is what the schema produces for an empty object, plus the image name", () => {
    const parsed = Config.parse({});
    expect(loadConfig({ cwd, env: {} })).toEqual({
      ...parsed,
      image: { ...parsed.image, name: defaultImageName(cwd, ".") },
    });
  });

  it("names the image after the build context's directory, as Compose names projects", () => {
    expect(defaultImageName("/src", "My App_2")).toBe("my-app-2");
    expect(defaultImageName("/src/todo-mcp", ".")).toBe("todo-mcp");
    expect(defaultImageName("/", ".")).toBe("app");
  });
});

describe("loadConfig precedence", () => {
  it("reads pipeline.config.yaml from the working directory over the defaults", () => {
    write(
      "pipeline.config.yaml",
      "image:\n  name: my-app\n  buildArgs:\n    NODE_MAJOR: 24\nsizeBudget:\n  uncompressedMB: 120\n  compressedMB: 50\n",
    );
    const config = loadConfig({ cwd, env: {} });
    expect(config.image).toMatchObject({ name: "my-app", buildArgs: { NODE_MAJOR: "24" } });
    expect(config.sizeBudget).toEqual({ uncompressedMB: 120, compressedMB: 50 });
    expect(config.health.timeoutSeconds).toBe(60);
  });

  it("reads pipeline.config.json when that is the file present", () => {
    write("pipeline.config.json", JSON.stringify({ tags: { latest: false } }));
    expect(loadConfig({ cwd, env: {} }).tags.latest).toBe(false);
  });

  it("reads an explicit file path relative to the working directory", () => {
    write("ci.yml", "reportDir: out/report\n");
    expect(loadConfig({ cwd, file: "ci.yml", env: {} }).reportDir).toBe("out/report");
  });

  it("refuses to guess when two config files are present", () => {
    write("pipeline.config.yaml", "{}\n");
    write("pipeline.config.json", "{}\n");
    expect(() => findConfigFile(cwd)).toThrow(/pipeline.config.yaml and pipeline.config.json/);
  });

  it("lets environment variables override the file", () => {
    write(
      "pipeline.config.yml",
      "image:\n  name: from-file\nsizeBudget:\n  uncompressedMB: 120\ntrivy:\n  severities: [CRITICAL]\nregistry:\n  address: file.example.com\n  username: file-user\n",
    );
    const config = loadConfig({
      cwd,
      env: {
        PIPELINE_IMAGE: "from-env",
        PIPELINE_SIZE_BUDGET_MB: "99.5",
        PIPELINE_TRIVY_SEVERITIES: "medium, HIGH ,critical",
        REGISTRY: "localhost:5000",
        REGISTRY_USERNAME: "env-user",
      },
    });
    expect(config.image.name).toBe("from-env");
    expect(config.sizeBudget.uncompressedMB).toBe(99.5);
    expect(config.trivy.severities).toEqual(["MEDIUM", "HIGH", "CRITICAL"]);
    expect(config.registry).toEqual({
      address: "localhost:5000",
      repository: "localhost:5000/from-env",
      username: "env-user",
    });
  });

  it("lets flags override the environment and the file", () => {
    write("pipeline.config.yaml", "image:\n  name: from-file\nhealth:\n  timeoutSeconds: 30\n");
    const config = loadConfig({
      cwd,
      env: { PIPELINE_IMAGE: "from-env", PIPELINE_SIZE_BUDGET_MB: "100" },
      overrides: {
        image: { name: "from-flags", target: undefined },
        sizeBudget: { uncompressedMB: 80 },
      },
    });
    expect(config.image.name).toBe("from-flags");
    expect(config.sizeBudget.uncompressedMB).toBe(80);
    expect(config.health.timeoutSeconds).toBe(30);
  });

  it("keeps the file's values where a flag was not given (undefined), instead of the defaults", () => {
    write(
      "pipeline.config.yaml",
      "image:\n  name: from-file\n  dockerfile: app.Dockerfile\n  target: backend\nsizeBudget:\n  uncompressedMB: 120\n  compressedMB: 60\nhealth:\n  timeoutSeconds: 30\nreportDir: out\n",
    );
    // What the command line hands over when no flag is given: every field present, undefined.
    const config = loadConfig({
      cwd,
      env: {},
      overrides: {
        image: { name: undefined, dockerfile: undefined, context: undefined, target: undefined },
        sizeBudget: { uncompressedMB: undefined, compressedMB: undefined },
        health: { timeoutSeconds: undefined },
        trivy: { severities: undefined },
        registry: { address: undefined, repository: undefined, username: undefined },
        tags: {},
        reportDir: undefined,
      },
    });
    expect(config.image).toMatchObject({
      name: "from-file",
      dockerfile: "app.Dockerfile",
      context: ".",
      target: "backend",
    });
    expect(config.sizeBudget).toEqual({ uncompressedMB: 120, compressedMB: 60 });
    expect(config.health.timeoutSeconds).toBe(30);
    expect(config.reportDir).toBe("out");
  });

  it("treats empty environment variables as unset", () => {
    write("pipeline.config.yaml", "image:\n  name: from-file\n");
    expect(loadConfig({ cwd, env: { PIPELINE_IMAGE: "", REGISTRY: " " } }).image.name).toBe(
      "from-file",
    );
  });
});

describe("loadConfig registry defaults", () => {
  it("derives a lowercased ghcr.io repository from GITHUB_REPOSITORY when REGISTRY is unset", () => {
    const config = loadConfig({
      cwd,
      env: { GITHUB_REPOSITORY: "Octo-Org/Todo.MCP", GITHUB_ACTOR: "Octocat" },
    });
    expect(config.registry).toEqual({
      address: "ghcr.io",
      repository: "ghcr.io/octo-org/todo.mcp",
      username: "Octocat",
    });
  });

  it("ignores GITHUB_REPOSITORY when REGISTRY names another registry", () => {
    const config = loadConfig({
      cwd,
      env: { GITHUB_REPOSITORY: "octo/repo", REGISTRY: "registry.example.com:5000" },
    });
    expect(config.registry.repository).toBe(
      `registry.example.com:5000/${defaultImageName(cwd, ".")}`,
    );
  });

  it("keeps a repository and username from the file over the GitHub defaults", () => {
    write(
      "pipeline.config.yaml",
      "registry:\n  repository: ghcr.io/team/custom\n  username: bot\n",
    );
    const config = loadConfig({
      cwd,
      env: { GITHUB_REPOSITORY: "octo/repo", GITHUB_ACTOR: "octocat" },
    });
    expect(config.registry).toEqual({
      address: "ghcr.io",
      repository: "ghcr.io/team/custom",
      username: "bot",
    });
  });

  it("takes the registry host from the repository the way docker does", () => {
    for (const [repository, address] of [
      ["localhost:5000/app", "localhost:5000"],
      ["ghcr.io/o/r", "ghcr.io"],
      ["team/app", "docker.io"],
    ]) {
      write("pipeline.config.yaml", `registry:\n  repository: ${repository}\n`);
      expect(loadConfig({ cwd, env: {} }).registry.address).toBe(address);
    }
  });

  it("has no field for the registry password", () => {
    write("pipeline.config.yaml", "registry:\n  password: hunter2\n");
    const error = configError({});
    expect(error.message).toContain("registry.password: unknown setting");
    expect(error.message).not.toContain("hunter2");
  });
});

describe("loadConfig errors", () => {
  it("rejects an unknown key in the file and lists the valid ones", () => {
    write("pipeline.config.yaml", "tags:\n  latests: true\n");
    const error = configError({});
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toBe(
      "tags.latests: unknown setting (from pipeline.config.yaml); expected one of publishOnPullRequest, latest, extra",
    );
    expect(error.field).toBe("tags.latests");
    expect(error.source).toBe("pipeline.config.yaml");
  });

  it("rejects an unknown top-level key", () => {
    write("pipeline.config.yaml", "imgae:\n  name: x\n");
    expect(configError({}).message).toMatch(/^imgae: unknown setting .*expected one of image, /);
  });

  it("names the field, the expectation, the value and the file for a bad value", () => {
    write("pipeline.config.yaml", "sizeBudget:\n  uncompressedMB: abc\n");
    expect(configError({}).message).toBe(
      'sizeBudget.uncompressedMB: expected a positive number, got "abc" (from pipeline.config.yaml)',
    );
  });

  it("defaults the MCP Registry's allowed OCI registries to upstream's list, and names a bad entry", () => {
    write("pipeline.config.yaml", "mcp: {}\n");
    expect(loadConfig({ cwd, env: {} }).mcp?.registry).toEqual({
      serverJson: "server.json",
      allowedRegistries: [...UPSTREAM_OCI_REGISTRIES],
    });
    write(
      "pipeline.config.yaml",
      "mcp:\n  registry:\n    allowedRegistries: [ghcr.io, 'https://registry.example.com']\n",
    );
    expect(configError({}).message).toBe(
      'mcp.registry.allowedRegistries.1: expected a registry host like ghcr.io, localhost:5000 or *.pkg.dev (no scheme, no path), got "https://registry.example.com" (from pipeline.config.yaml)',
    );
  });

  it("names the environment variable a bad value came from", () => {
    const error = configError({ env: { PIPELINE_SIZE_BUDGET_MB: "lots" } });
    expect(error.message).toBe(
      'sizeBudget.uncompressedMB: expected a positive number, got "lots" (from $PIPELINE_SIZE_BUDGET_MB)',
    );
  });

  it("names the item of a severity list that is wrong", () => {
    const error = configError({ env: { PIPELINE_TRIVY_SEVERITIES: "HIGH,SEVERE" } });
    expect(error.message).toBe(
      'trivy.severities.1: expected one of UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL, got "SEVERE" (from $PIPELINE_TRIVY_SEVERITIES)',
    );
  });

  it("names command-line options as the source of a bad flag", () => {
    const error = configError({ overrides: { compose: { port: 70000 } } });
    expect(error.message).toBe(
      "compose.port: expected a port number between 1 and 65535, got 70000 (from command-line options)",
    );
  });

  it.each([
    [
      "health:\n  timeoutSeconds: 1.5\n",
      "health.timeoutSeconds: expected a whole number of seconds",
    ],
    ["image:\n  name: Todo:latest\n", "image.name: expected a lowercase image name"],
    ["tags:\n  extra: ['-bad']\n", "tags.extra.0: expected an image tag"],
    [
      "trivy:\n  ignoreUnfixed: maybe\n",
      'trivy.ignoreUnfixed: expected true or false, got "maybe"',
    ],
    ["registry:\n  address: https://ghcr.io\n", "registry.address: expected a registry host"],
    ["image:\n  buildArgs:\n    1BAD: x\n", "image.buildArgs.1BAD: expected a build argument name"],
    ["trivy:\n  severities: []\n", "trivy.severities: expected at least one severity"],
  ])("explains a bad value in %j", (yaml, expected) => {
    write("pipeline.config.yaml", yaml);
    expect(configError({}).message).toContain(expected);
  });

  it("names the file and line of malformed YAML", () => {
    write("pipeline.config.yaml", "reportDir: out\nimage:\n\tname: x\n");
    expect(configError({}).message).toMatch(/^pipeline\.config\.yaml:3:1: malformed YAML: .*tab/i);
  });

  it("names the file and line of a duplicated YAML key", () => {
    write("pipeline.config.yaml", "reportDir: a\nreportDir: b\n");
    expect(configError({}).message).toMatch(/^pipeline\.config\.yaml:2:1: malformed YAML: /);
  });

  it("names the file and line of malformed JSON", () => {
    write("pipeline.config.json", '{\n  "reportDir": "out",\n}\n');
    expect(configError({}).message).toMatch(/^pipeline\.config\.json:3:1: malformed JSON: /);
  });

  it("rejects a file whose top level is not a mapping", () => {
    write("pipeline.config.yaml", "- image\n- tags\n");
    expect(configError({}).message).toBe(
      "pipeline.config.yaml: expected a mapping of settings at the top level, got a list",
    );
  });

  it("accepts an empty file as no settings", () => {
    write("pipeline.config.yaml", "# nothing yet\n");
    expect(loadConfig({ cwd, env: {} }).image.name).toBe(defaultImageName(cwd, "."));
  });

  it("says so when an explicit file does not exist", () => {
    expect(configError({ file: "missing.yaml" }).message).toBe(
      "cannot read config file missing.yaml: it does not exist",
    );
  });
});

describe("loadConfig mcp revisions", () => {
  it("claims both revisions the pipeline verifies when mcp.revisions is unset", () => {
    write("pipeline.config.yaml", "mcp:\n  path: /mcp\n");
    expect(loadConfig({ cwd, env: {} }).mcp).toEqual({
      path: "/mcp",
      revisions: ["2026-07-28", "2025-11-25"],
      conformance: {},
      contract: { file: "mcp-contract.json", revisionDifferences: [] },
      registry: { serverJson: "server.json", allowedRegistries: [...UPSTREAM_OCI_REGISTRIES] },
    });
  });

  it("reads a narrower claim, dropping duplicates, and YAML's unquoted dates as the revision strings", () => {
    write("pipeline.config.yaml", "mcp:\n  revisions: [2025-11-25, '2025-11-25']\n");
    expect(loadConfig({ cwd, env: {} }).mcp?.revisions).toEqual(["2025-11-25"]);
  });

  it("names the field and the revisions it can verify for one it cannot", () => {
    write("pipeline.config.yaml", "mcp:\n  revisions: ['2025-06-18']\n");
    expect(configError({}).message).toBe(
      'mcp.revisions.0: expected an MCP revision this pipeline verifies: 2026-07-28 or 2025-11-25, got "2025-06-18" (from pipeline.config.yaml)',
    );
  });

  it("refuses an empty claim", () => {
    write("pipeline.config.yaml", "mcp:\n  revisions: []\n");
    expect(configError({}).message).toMatch(/^mcp\.revisions: expected a list of MCP revisions/);
  });

  it("takes conformance scenarios as one list or as lists by revision, and nothing else", () => {
    write(
      "pipeline.config.yaml",
      "mcp:\n  conformance:\n    scenarios:\n      '2026-07-28': [caching]\n",
    );
    expect(loadConfig({ cwd, env: {} }).mcp?.conformance.scenarios).toEqual({
      "2026-07-28": ["caching"],
    });
    write("pipeline.config.yaml", "mcp:\n  conformance:\n    scenarios: [ping]\n");
    expect(loadConfig({ cwd, env: {} }).mcp?.conformance.scenarios).toEqual(["ping"]);
    write(
      "pipeline.config.yaml",
      "mcp:\n  conformance:\n    scenarios:\n      '2025-06-18': [ping]\n",
    );
    expect(configError({}).field).toMatch(/^mcp\.conformance\.scenarios/);
  });

  it("reads the tools allowed to differ between revisions", () => {
    write("pipeline.config.yaml", "mcp:\n  contract:\n    revisionDifferences: [get_task]\n");
    expect(loadConfig({ cwd, env: {} }).mcp?.contract.revisionDifferences).toEqual(["get_task"]);
  });
});

describe("sign.rekorUrl", () => {
  it("takes a private transparency log from REKOR_URL over the config file", () => {
    write("pipeline.config.yaml", "sign:\n  rekorUrl: https://rekor.file.example\n");
    expect(loadConfig({ cwd, env: {} }).sign.rekorUrl).toBe("https://rekor.file.example");
    expect(loadConfig({ cwd, env: { REKOR_URL: "http://127.0.0.1:3000" } }).sign.rekorUrl).toBe(
      "http://127.0.0.1:3000",
    );
  });

  it("leaves the transparency log unset by default", () => {
    expect(loadConfig({ cwd, env: {} }).sign.rekorUrl).toBeUndefined();
  });

  it("refuses a Rekor URL without a scheme, naming the field and its source", () => {
    const error = configError({ env: { REKOR_URL: "rekor.example.com" } });
    expect(error.field).toBe("sign.rekorUrl");
    expect(error.source).toBe("$REKOR_URL");
    expect(error.message).toMatch(/expected a Rekor URL like https:\/\/rekor\.example\.com/);
  });
});
