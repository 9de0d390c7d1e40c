import { describe, expect, it } from "vitest";
import type { YAMLSeq } from "yaml";
import {
  check,
  composeVariant,
  configVariant,
  contextVariant,
  gateRuns,
  skipAllBut,
} from "../pipeline-harness.js";

// The variants are config files (the repository's pipeline.config.yaml, changed) and compose
// files (its docker-compose.yml, changed), written to a temporary directory.
const gate = gateRuns(skipAllBut("compose-smoke"));

/** The repository's configuration with `compose.file` set to a changed docker-compose.yml. */
function withCompose(
  name: string,
  edit: Parameters<typeof composeVariant>[1],
  editConfig: Parameters<typeof configVariant>[1] = () => {},
): string[] {
  const file = composeVariant(name, edit);
  return configVariant(name, (doc) => {
    doc.setIn(["compose", "file"], file);
    editConfig(doc);
  });
}

describe("the compose-smoke gate", () => {
  it("passes the project's stack, which then publishes (the control for every run below)", async () => {
    const run = await gate.expectControlPublishes();
    expect(check(run, "compose-smoke").summary).toBe(
      "stack healthy, and the smoke test passed against it",
    );
  });

  it("fails when the backend's token does not match the server's, with the stack's logs", async () => {
    const run = await gate.run([], { BACKEND_SERVICE_AUTH_TOKEN: "not-the-same-token" });
    const result = await gate.expectTripped(run, "compose-smoke");
    expect(result.summary).toMatch(
      /^smoke test failed: at MCP revision 2026-07-28: create_task reported an error/,
    );
    expect(result.summary).toMatch(/refused the MCP server's credentials/);
    expect(result.details).toContain("logs:");
  });

  it("fails when another service of the stack does not build, with the build's output", async () => {
    const run = await gate.run(
      withCompose("backend-build-fails", (doc) => {
        doc.setIn(["services", "backend", "build", "dockerfile_inline"], BROKEN_BUILD);
      }),
    );
    const result = await gate.expectTripped(run, "compose-smoke");
    expect(result.summary).toBe("could not build backend");
    expect(result.details.join("\n")).toMatch(/backend build broke on purpose/);
  });

  it("fails when a service never turns healthy, listing the services' states", async () => {
    const run = await gate.run(
      withCompose(
        "backend-never-healthy",
        (doc) => {
          // The backend's probe asks a port nothing listens on.
          doc.setIn(
            ["services", "backend", "healthcheck", "test"],
            doc.createNode(["CMD", "/usr/local/bin/node", "/app/healthcheck.mjs", "9"]),
          );
          doc.setIn(["services", "backend", "healthcheck", "interval"], "1s");
          doc.setIn(["services", "backend", "healthcheck", "start_period"], "0s");
          doc.setIn(["services", "backend", "healthcheck", "retries"], 2);
        },
        (doc) => doc.setIn(["compose", "timeoutSeconds"], 30),
      ),
    );
    const result = await gate.expectTripped(run, "compose-smoke");
    expect(result.summary).toBe("docker compose up --wait did not bring the stack to healthy");
    const details = result.details.join("\n");
    expect(details).toMatch(/^services:$/m);
    expect(details).toMatch(/^backend: \w+ unhealthy$/m);
  });

  it("fails when tools/list lacks an expected tool, naming it", async () => {
    const run = await gate.run(
      configVariant("missing-tool", (doc) => {
        (doc.getIn(["compose", "smoke", "mcp", "expectTools"]) as YAMLSeq).add("archive_task");
      }),
    );
    const result = await gate.expectTripped(run, "compose-smoke");
    expect(result.summary).toMatch(
      /^smoke test failed: at MCP revision 2026-07-28: tools\/list lacks archive_task \(has /,
    );
  });

  it("fails when a call's result lacks what it should return: the created task is not listed", async () => {
    const run = await gate.run(
      configVariant("task-not-listed", (doc) => {
        // The task just created is pending, so a list of completed tasks cannot hold it.
        doc.setIn(["compose", "smoke", "mcp", "calls", 1, "arguments", "status"], "completed");
      }),
    );
    const result = await gate.expectTripped(run, "compose-smoke");
    expect(result.summary).toMatch(
      /^smoke test failed: at MCP revision 2026-07-28: list_tasks did not return "pipeline smoke [0-9a-f]{8}-2026-07-28"/,
    );
  });

  it("fails when compose.service names a service the compose file lacks, listing the services", async () => {
    const run = await gate.run(
      configVariant("no-such-service", (doc) => doc.setIn(["compose", "service"], "todo-api")),
    );
    const result = await gate.expectTripped(run, "compose-smoke");
    expect(result.summary).toBe('docker-compose.yml has no service "todo-api"');
    expect(result.details).toEqual([
      "Services: backend, mcp-server. Set compose.service to one of them.",
    ]);
  });

  it("fails when the compose file is invalid, with Compose's own message", async () => {
    const run = await gate.run(
      withCompose("invalid-compose-file", (doc) => {
        doc.setIn(["services", "backend", "healthcheck", "interval"], "every now and then");
      }),
    );
    const result = await gate.expectTripped(run, "compose-smoke");
    expect(result.summary).toMatch(/^compose-smoke could not run: docker compose config failed/);
    expect(result.details.join("\n")).toMatch(/interval/);
  });

  it("fails when no compose.port is set and the image exposes more than one port", async () => {
    const run = await gate.run([
      ...configVariant("no-port", (doc) => doc.deleteIn(["compose", "port"])),
      ...contextVariant("two-ports", (t) =>
        t.replace("FROM runtime AS mcp-server", "FROM runtime AS mcp-server\nEXPOSE 9000"),
      ),
    ]);
    const result = await gate.expectTripped(run, "compose-smoke");
    expect(result.summary).toBe("no port to reach: the image exposes no single TCP port");
    expect(result.details.join("\n")).toMatch(/Set compose\.port/);
  });

  it("is skipped, saying why, when there is no compose file", async () => {
    const run = await gate.run(
      configVariant("no-compose-file", (doc) =>
        doc.setIn(["compose", "file"], "no-such-compose.yml"),
      ),
    );
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    const result = check(run, "compose-smoke");
    expect(result.status).toBe("skipped");
    expect(result.summary).toBe("no compose file at no-such-compose.yml");
  });
});

// A stage named like the service's build target, whose step fails.
const BROKEN_BUILD =
  'FROM node:24-bookworm-slim AS backend\nRUN echo "backend build broke on purpose" >&2 && exit 3\n';
