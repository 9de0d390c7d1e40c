import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EXIT, mcpRegistryPublish } from "../../../src/ci/release/mcp-registry-publish.js";
import { parseSettings } from "../../../src/ci/release/mcp-registry-settings.js";

describe("parseSettings", () => {
  it("logs in with a token when one is given, else with GitHub's OIDC token on Actions", () => {
    expect(parseSettings({ MCP_REGISTRY_TOKEN: "t" })).toEqual({
      url: "https://registry.modelcontextprotocol.io",
      auth: "token",
      token: "t",
    });
    expect(
      parseSettings({ ACTIONS_ID_TOKEN_REQUEST_URL: "https://x", MCP_REGISTRY_URL: "http://h:1/" }),
    ).toMatchObject({
      url: "http://h:1",
      auth: "github-oidc",
    });
    expect(parseSettings({ MCP_REGISTRY_AUTH: "none" }).auth).toBe("none");
  });

  it("reads a workflow's empty variables and secrets as unset", () => {
    expect(
      parseSettings({
        MCP_REGISTRY_URL: "",
        MCP_REGISTRY_TOKEN: "",
        ACTIONS_ID_TOKEN_REQUEST_URL: "https://x",
      }),
    ).toMatchObject({ url: "https://registry.modelcontextprotocol.io", auth: "github-oidc" });
  });

  it("names the variable and what it expects for a value it cannot use", () => {
    expect(() => parseSettings({})).toThrow(
      /^\$MCP_REGISTRY_AUTH is unset and nothing else says how to log in/,
    );
    expect(() => parseSettings({ MCP_REGISTRY_AUTH: "password" })).toThrow(
      "$MCP_REGISTRY_AUTH expected one of github-oidc, token, none",
    );
    expect(() => parseSettings({ MCP_REGISTRY_AUTH: "token" })).toThrow(
      "$MCP_REGISTRY_TOKEN is required with MCP_REGISTRY_AUTH=token",
    );
    expect(() =>
      parseSettings({ MCP_REGISTRY_AUTH: "none", MCP_REGISTRY_URL: "registry" }),
    ).toThrow("$MCP_REGISTRY_URL expected the registry's base URL");
  });
});

describe("mcpRegistryPublish: bad input sends nothing and exits 2", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function repo(report: unknown, config = "image:\n  name: todo\nmcp:\n  path: /mcp\n"): string {
    const dir = mkdtempSync(join(tmpdir(), "mcp-registry-input-"));
    dirs.push(dir);
    writeFileSync(join(dir, "pipeline.config.yaml"), config);
    writeFileSync(
      join(dir, "server.json"),
      JSON.stringify({
        name: "io.github.o/r",
        version: "1.0.0",
        packages: [{ registryType: "oci", identifier: "ghcr.io/o/r:1.0.0" }],
      }),
    );
    if (report !== undefined) {
      mkdirSync(join(dir, "pipeline-report"));
      writeFileSync(join(dir, "pipeline-report", "report.json"), JSON.stringify(report));
    }
    return dir;
  }

  async function publishIn(dir: string, env: NodeJS.ProcessEnv = { MCP_REGISTRY_AUTH: "none" }) {
    let stderr = "";
    let asked = false;
    const code = await mcpRegistryPublish(["node", "mcp-registry-publish"], {
      cwd: dir,
      env,
      publisher: async () => {
        asked = true;
        throw new Error("no publisher in unit tests");
      },
      out: () => {},
      err: (text) => {
        stderr += text;
      },
    });
    return { code, stderr, asked };
  }

  const released = {
    ok: true,
    image: { ref: "ghcr.io/o/r:1.0.0", digest: `sha256:${"b".repeat(64)}` },
    checks: [],
    published: ["ghcr.io/o/r:1.0.0"],
    error: null,
  };

  it("refuses a release whose pipeline failed", async () => {
    const res = await publishIn(repo({ ...released, ok: false }));
    expect(res).toMatchObject({ code: EXIT.badInput, asked: false });
    expect(res.stderr).toContain("nothing was published:");
    expect(res.stderr).toContain("is of a run that failed");
  });

  it("refuses a run that published nothing", async () => {
    const res = await publishIn(
      repo({ ...released, published: [], image: { ref: "x", digest: null } }),
    );
    expect(res.code).toBe(EXIT.badInput);
    expect(res.stderr).toContain("published nothing");
  });

  it("says where it looked when there is no report", async () => {
    const res = await publishIn(repo(undefined));
    expect(res.code).toBe(EXIT.badInput);
    expect(res.stderr).toMatch(/cannot read the release's .*pipeline-report\/report\.json/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  it("refuses an image the configuration does not declare an MCP server", async () => {
    const res = await publishIn(repo(released, "image:\n  name: todo\n"));
    expect(res.code).toBe(EXIT.badInput);
    expect(res.stderr).toContain("declares no MCP server");
  });

  it("names the field of a configuration it cannot read", async () => {
    const res = await publishIn(
      repo(released, "image:\n  name: todo\nmcp:\n  path: 5\n  nonsense: 1\n"),
    );
    expect(res).toMatchObject({ code: EXIT.badInput, asked: false });
    expect(res.stderr).toMatch(/nothing was published: .*mcp/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  it("refuses before anything runs when there is no way to log in", async () => {
    const res = await publishIn(repo(released), {});
    expect(res).toMatchObject({ code: EXIT.badInput, asked: false });
    expect(res.stderr).toContain("$MCP_REGISTRY_AUTH is unset");
  });

  it("gets as far as the publisher with a good release (the control)", async () => {
    const res = await publishIn(repo(released));
    expect(res).toMatchObject({ code: EXIT.failed, asked: true });
    expect(res.stderr).toContain("no publisher in unit tests");
  });
});
