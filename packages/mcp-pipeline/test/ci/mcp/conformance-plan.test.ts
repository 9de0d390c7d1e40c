import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MCP_REVISIONS, type McpRevision } from "../../../src/ci/config/schema.js";
import { installedSuite, readRequirementSets } from "../../../src/ci/mcp/conformance.js";
import {
  DEFAULT_SCENARIOS,
  FIXTURE_CHECKS,
  notApplicableChecks,
  parseExpectedFailures,
  planConformance,
  type RequirementSet,
} from "../../../src/ci/mcp/conformance-plan.js";
import { McpGateError } from "../../../src/ci/mcp/errors.js";
import type { McpServerInfo } from "../../../src/ci/mcp/server-info.js";

const suite = installedSuite();
const requirements = await readRequirementSets(suite.root);

const server = (
  revision: McpRevision,
  capabilities: McpServerInfo["capabilities"] = { tools: {} },
  tools: string[] = ["create_task"],
): McpServerInfo => ({
  revision,
  serverInfo: { name: "s", version: "1" },
  capabilities,
  tools: tools.map((name) => ({ name, inputSchema: { type: "object" } })),
});
const both = [server("2026-07-28"), server("2025-11-25")];

describe("the default scenarios", () => {
  it.each(MCP_REVISIONS)(
    "are all required by the suite's frozen %s requirement set",
    (revision) => {
      for (const scenario of DEFAULT_SCENARIOS[revision]) {
        expect(requirements[revision].server, scenario).toContain(scenario);
      }
    },
  );

  it.each(MCP_REVISIONS)(
    "leave out at %s every scenario that exercises the suite's fixture tools, prompts or resources",
    (revision) => {
      const fixture =
        /^(tools-call-|prompts-|resources-|completion-|elicitation-|input-required-result-(?!unsupported-methods)|tasks-|json-schema-)/;
      expect(DEFAULT_SCENARIOS[revision].filter((s) => fixture.test(s))).toEqual([]);
    },
  );

  it("name only checks the installed suite really emits, so a renamed check cannot hide", () => {
    const source = readFileSync(suite.command[1] as string, "utf8");
    for (const revision of MCP_REVISIONS) {
      for (const checks of Object.values(FIXTURE_CHECKS[revision])) {
        for (const id of Object.keys(checks)) expect(source, id).toContain(id);
      }
    }
  });
});

describe("planConformance", () => {
  it("runs each spoken revision's defaults, a scenario of both once under each", () => {
    const legs = planConformance({
      servers: both,
      claimed: [...MCP_REVISIONS],
      configured: undefined,
      requirements,
    });
    expect(legs.map((leg) => [leg.revision, leg.scenarios])).toEqual([
      ["2026-07-28", DEFAULT_SCENARIOS["2026-07-28"]],
      ["2025-11-25", DEFAULT_SCENARIOS["2025-11-25"]],
    ]);
    expect(legs.flatMap((leg) => leg.scenarios).filter((s) => s === "tools-list")).toHaveLength(2);
  });

  it("adds logging-set-level at 2025-11-25 only for a server that declares logging", () => {
    const plan = (capabilities: McpServerInfo["capabilities"]) =>
      planConformance({
        servers: [server("2025-11-25", capabilities)],
        claimed: ["2025-11-25"],
        configured: undefined,
        requirements,
      })[0]?.scenarios;
    expect(plan({ tools: {} })).not.toContain("logging-set-level");
    expect(plan({ tools: {}, logging: {} })).toContain("logging-set-level");
  });

  it("plans nothing for a claimed revision the server does not speak", () => {
    const legs = planConformance({
      servers: [server("2025-11-25")],
      claimed: [...MCP_REVISIONS],
      configured: undefined,
      requirements,
    });
    expect(legs.map((leg) => leg.revision)).toEqual(["2025-11-25"]);
  });

  it("runs a configured list's scenarios at every revision whose requirement set has them", () => {
    const legs = planConformance({
      servers: both,
      claimed: [...MCP_REVISIONS],
      configured: ["tools-list", "ping", "caching"],
      requirements,
    });
    expect(legs.map((leg) => [leg.revision, leg.scenarios])).toEqual([
      ["2026-07-28", ["tools-list", "caching"]],
      ["2025-11-25", ["tools-list", "ping"]],
    ]);
  });

  it("refuses a configured scenario no claimed revision has, naming it", () => {
    const plan = (configured: string[], claimed: McpRevision[]) => () =>
      planConformance({ servers: both, claimed, configured, requirements });
    expect(plan(["tools-lsit"], [...MCP_REVISIONS])).toThrow(
      /mcp\.conformance\.scenarios: tools-lsit is in the requirement set of no claimed revision/,
    );
    expect(plan(["ping"], ["2026-07-28"])).toThrow(McpGateError);
  });

  it("takes a mapping's list for the revisions it names and the defaults for the others", () => {
    const legs = planConformance({
      servers: both,
      claimed: [...MCP_REVISIONS],
      configured: { "2025-11-25": ["ping"] },
      requirements,
    });
    expect(legs.map((leg) => leg.scenarios)).toEqual([DEFAULT_SCENARIOS["2026-07-28"], ["ping"]]);
    expect(() =>
      planConformance({
        servers: both,
        claimed: [...MCP_REVISIONS],
        configured: { "2026-07-28": ["ping"] },
        requirements,
      }),
    ).toThrow(/scenarios\.2026-07-28: ping is not in the 2026-07-28 requirement set/);
  });

  it("marks fixture checks not applicable by what the server lacks, and counts them when it has it", () => {
    const plain = server("2026-07-28");
    expect(Object.keys(notApplicableChecks(plain, "server-stateless"))).toHaveLength(4);
    expect(notApplicableChecks(plain, "caching")).toEqual({
      "sep-2549-prompts-list-caching-hints": "the server does not declare prompts",
      "sep-2549-resources-list-caching-hints": "the server does not declare resources",
      "sep-2549-resources-templates-list-caching-hints": "the server does not declare resources",
    });
    const rich = server("2026-07-28", { tools: {}, prompts: {}, resources: {} }, [
      "test_missing_capability",
      "test_streaming_elicitation",
      "test_logging_tool",
    ]);
    expect(notApplicableChecks(rich, "server-stateless")).toEqual({});
    expect(notApplicableChecks(rich, "caching")).toEqual({});
    expect(notApplicableChecks(server("2025-11-25"), "server-initialize")).toEqual({});
  });
});

describe("parseExpectedFailures", () => {
  const entries = (text: string) => {
    const baseline = parseExpectedFailures(text, "b.yml");
    return Object.fromEntries(
      MCP_REVISIONS.map((revision) => [
        revision,
        [...baseline[revision]].map(([scenario, e]) =>
          e.whole ? scenario : [...e.checks].map((c) => `${scenario}:${c}`).join(","),
        ),
      ]),
    );
  };

  it("reads the suite's flat format as every revision's, ignoring the client list", () => {
    expect(entries("server:\n  - dns-rebinding-protection\nclient:\n  - sse-retry\n")).toEqual({
      "2026-07-28": ["dns-rebinding-protection"],
      "2025-11-25": ["dns-rebinding-protection"],
    });
  });

  it("reads entries by revision, and per-check entries, beside the flat ones", () => {
    const text = [
      "server: [ping]",
      '"2026-07-28":',
      "  server:",
      "    - caching:sep-2549-prompts-list-caching-hints",
      "2025-11-25:",
      "  server: [tools-list]",
    ].join("\n");
    expect(entries(text)).toEqual({
      "2026-07-28": ["ping", "caching:sep-2549-prompts-list-caching-hints"],
      "2025-11-25": ["ping", "tools-list"],
    });
  });

  it("reads an empty file, or one with only client entries, as no expected failures", () => {
    expect(entries("")).toEqual({ "2026-07-28": [], "2025-11-25": [] });
    expect(entries("client: [x]\n")).toEqual({ "2026-07-28": [], "2025-11-25": [] });
  });

  it("refuses what it cannot read, naming the file and the fix", () => {
    const bad = (text: string) => () => parseExpectedFailures(text, "b.yml");
    expect(bad("- ping\n")).toThrow(/b\.yml: expected a mapping/);
    expect(bad("server: ping\n")).toThrow(/b\.yml: server must be a list/);
    expect(bad("server: [\n")).toThrow(McpGateError);
    expect(bad("2025-06-18:\n  server: [ping]\n")).toThrow(/unknown key "2025-06-18"/);
    expect(bad("server:\n  - caching: sep-2549-x\n")).toThrow(/did you mean 'caching:sep-2549-x'/);
    expect(bad("server: [caching, caching:x]\n")).toThrow(
      /caching is expected to fail as a whole and by check/,
    );
  });
});

describe("the requirement sets as this pipeline reads them", () => {
  it("has both revisions' server lists and their unscored server scenarios", () => {
    const sets: Record<McpRevision, RequirementSet> = requirements;
    expect(sets["2026-07-28"].server).toContain("server-stateless");
    expect(sets["2026-07-28"].notScored).toContain("http-header-validation");
    expect(sets["2025-11-25"].server).toContain("server-initialize");
    expect(sets["2025-11-25"].notScored).not.toContain("auth/dpop");
  });
});
