/**
 * Which conformance scenarios run at which protocol revision, which checks of them cannot apply
 * to the server, and the expected-failures baseline by revision. Pure: the suite's requirement
 * sets, the server's answers and the baseline's text come in as values.
 */
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { MCP_REVISIONS, type McpRevision } from "../config/schema.js";
import { McpGateError, McpGateErrorCode } from "./errors.js";
import type { McpServerInfo } from "./server-info.js";

/**
 * The default scenarios of each revision: every server scenario of the revision's frozen
 * requirement set that a server can pass with its own tools, without the suite's reference
 * fixture (its `test_*` tools, prompts and resources). docs/gates.md says why each other one is
 * left out. A scenario of both revisions runs once under each: one wire says nothing of the other.
 */
export const DEFAULT_SCENARIOS: Readonly<Record<McpRevision, readonly string[]>> = {
  "2026-07-28": [
    "server-stateless",
    "tools-list",
    "server-sse-multiple-streams",
    "sep-2164-resource-not-found",
    "dns-rebinding-protection",
    "caching",
    "input-required-result-unsupported-methods",
  ],
  "2025-11-25": [
    "server-initialize",
    "ping",
    "tools-list",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
  ],
};

/** Default scenarios that run only when the server declares a capability (by revision). */
export const CAPABILITY_SCENARIOS: Readonly<
  Record<McpRevision, Readonly<Record<string, keyof McpServerInfo["capabilities"]>>>
> = {
  "2026-07-28": {},
  "2025-11-25": { "logging-set-level": "logging" },
};

/** What a fixture check needs before it can say anything about a server. */
type FixtureNeed = { tool: string } | { capability: "prompts" | "resources" };

/**
 * Checks of default scenarios that exercise the suite's reference fixture rather than the server:
 * a diagnostic tool no real server lists, or a list the server does not offer. The suite reports
 * them as FAILURE ("Not testable: …"); where the server lacks what they need they are not
 * applicable, shown as such, and never counted. A server that has the tool or the capability gets
 * them counted like any other check.
 */
export const FIXTURE_CHECKS: Readonly<
  Record<McpRevision, Readonly<Record<string, Readonly<Record<string, FixtureNeed>>>>>
> = {
  "2026-07-28": {
    "server-stateless": {
      "sep-2575-server-rejects-undeclared-capability": { tool: "test_missing_capability" },
      "sep-2575-missing-capability-http-400": { tool: "test_missing_capability" },
      "sep-2575-http-server-no-independent-requests-on-stream": {
        tool: "test_streaming_elicitation",
      },
      "sep-2575-server-no-log-without-loglevel": { tool: "test_logging_tool" },
    },
    caching: {
      "sep-2549-prompts-list-caching-hints": { capability: "prompts" },
      "sep-2549-resources-list-caching-hints": { capability: "resources" },
      "sep-2549-resources-templates-list-caching-hints": { capability: "resources" },
    },
  },
  "2025-11-25": {},
};

/** A revision's frozen requirement set as the suite ships it, server leg only. */
export interface RequirementSet {
  /** Scenarios the revision requires of a server. */
  server: string[];
  /** Server scenarios the revision runs without scoring them (extensions, pending, added late). */
  notScored: string[];
}

/** Reads the server leg of `requirements/<revision>.yaml`'s text. */
export function parseRequirementSet(text: string, source: string): RequirementSet {
  const data = parseYaml(text) as {
    server?: unknown;
    not_scored?: unknown;
  } | null;
  if (data === null || typeof data !== "object" || !Array.isArray(data.server)) {
    throw new McpGateError(
      McpGateErrorCode.SUITE_FAILED_TO_RUN,
      `${source} is not a requirement set this pipeline reads (no server list); has the suite's version changed?`,
    );
  }
  const notScored = Array.isArray(data.not_scored) ? data.not_scored : [];
  return {
    server: data.server.map(String),
    notScored: notScored
      .filter((entry): entry is { scenario: unknown; leg: unknown } => typeof entry === "object")
      .filter((entry) => entry.leg === "server")
      .map((entry) => String(entry.scenario)),
  };
}

/** Every server scenario a revision's requirement set runs, scored or not. */
function scenariosOf(set: RequirementSet): string[] {
  return [...set.server, ...set.notScored];
}

/** The scenarios of one revision and, per scenario, its checks that cannot apply to the server. */
export interface ConformanceLeg {
  revision: McpRevision;
  scenarios: string[];
  /** scenario → check id → why it is not applicable. */
  notApplicable: Record<string, Record<string, string>>;
}

/** `mcp.conformance.scenarios` as the configuration holds it. */
export type ConfiguredScenarios = readonly string[] | Partial<Record<McpRevision, string[]>>;

/**
 * The legs of a conformance run, one per revision the server speaks, in the claimed order. Without
 * configured scenarios each revision runs its defaults (plus capability scenarios the server
 * declares). A configured list runs each scenario at every revision whose requirement set has it;
 * a configured mapping sets the lists of the revisions it names. Throws McpGateError
 * (`CONFIG_INVALID`) for a scenario no claimed revision's requirement set has.
 */
export function planConformance(input: {
  /** The revisions the server speaks, with what it answered at each. */
  servers: readonly McpServerInfo[];
  /** Every claimed revision, spoken or not (a configured scenario is checked against all). */
  claimed: readonly McpRevision[];
  configured: ConfiguredScenarios | undefined;
  requirements: Readonly<Record<McpRevision, RequirementSet>>;
}): ConformanceLeg[] {
  const { configured, requirements } = input;
  const lists = new Map<McpRevision, string[]>();
  if (Array.isArray(configured)) {
    const unknown = configured.filter(
      (scenario) =>
        !input.claimed.some((revision) => scenariosOf(requirements[revision]).includes(scenario)),
    );
    if (unknown.length > 0) {
      throw new McpGateError(
        McpGateErrorCode.CONFIG_INVALID,
        `mcp.conformance.scenarios: ${unknown.join(", ")} ${unknown.length === 1 ? "is" : "are"} in the requirement set of no claimed revision (${input.claimed.join(", ")}); \`npx conformance list --server --spec-version <revision>\` lists them`,
      );
    }
    for (const revision of input.claimed) {
      const applicable = scenariosOf(requirements[revision]);
      lists.set(
        revision,
        configured.filter((scenario) => applicable.includes(scenario)),
      );
    }
  } else if (configured !== undefined) {
    for (const [revision, list] of Object.entries(configured) as [McpRevision, string[]][]) {
      const applicable = scenariosOf(requirements[revision]);
      const unknown = list.filter((scenario) => !applicable.includes(scenario));
      if (unknown.length > 0) {
        throw new McpGateError(
          McpGateErrorCode.CONFIG_INVALID,
          `mcp.conformance.scenarios.${revision}: ${unknown.join(", ")} ${unknown.length === 1 ? "is" : "are"} not in the ${revision} requirement set`,
        );
      }
      lists.set(revision, [...list]);
    }
  }
  return input.servers.map((server) => {
    const scenarios = lists.get(server.revision) ?? defaultScenarios(server);
    return {
      revision: server.revision,
      scenarios,
      notApplicable: Object.fromEntries(
        scenarios.map((scenario) => [scenario, notApplicableChecks(server, scenario)]),
      ),
    };
  });
}

/** The default scenarios of the server's revision, with the capability ones it declares. */
export function defaultScenarios(server: McpServerInfo): string[] {
  const conditional = Object.entries(CAPABILITY_SCENARIOS[server.revision])
    .filter(([, capability]) => server.capabilities[capability] !== undefined)
    .map(([scenario]) => scenario);
  return [...DEFAULT_SCENARIOS[server.revision], ...conditional];
}

/** The checks of `scenario` that cannot apply to this server at its revision, with why. */
export function notApplicableChecks(
  server: McpServerInfo,
  scenario: string,
): Record<string, string> {
  const fixtures = FIXTURE_CHECKS[server.revision][scenario] ?? {};
  const tools = new Set(server.tools.map((tool) => tool.name));
  const result: Record<string, string> = {};
  for (const [check, need] of Object.entries(fixtures)) {
    if ("tool" in need && !tools.has(need.tool)) {
      result[check] = `needs the suite's diagnostic tool ${need.tool}`;
    } else if ("capability" in need && server.capabilities[need.capability] === undefined) {
      result[check] = `the server does not declare ${need.capability}`;
    }
  }
  return result;
}

/** What the baseline expects of one scenario at one revision. */
export interface Expectation {
  /** The whole scenario is expected to fail. */
  whole: boolean;
  /** Checks expected to fail (`scenario:check-id` entries). */
  checks: ReadonlySet<string>;
}

/** The expected-failures baseline, by revision: scenario → what is expected to fail. */
export type Baseline = Readonly<Record<McpRevision, ReadonlyMap<string, Expectation>>>;

const BASELINE_SHAPE = `expected a mapping like \`server: [dns-rebinding-protection]\` (every revision) or \`"2026-07-28": { server: [caching] }\` (one revision)`;

/** A baseline that expects nothing. */
export function emptyBaseline(): Baseline {
  return Object.fromEntries(
    MCP_REVISIONS.map((revision) => [revision, new Map<string, Expectation>()]),
  ) as unknown as Baseline;
}

/**
 * Parses an expected-failures file: YAML whose `server` list applies to every revision and whose
 * `<revision>: { server: [...] }` entries to one; `client` lists (the suite's own format) are
 * ignored; an empty file expects nothing. An entry is a scenario (`caching`) or one check of it
 * (`caching:sep-2549-prompts-list-caching-hints`). The suite's flat `server: [...]` files are
 * read as before, for every revision. Throws McpGateError (`EXPECTED_FAILURES_INVALID`) naming
 * the file and what is wrong.
 */
export function parseExpectedFailures(text: string, source: string): Baseline {
  const invalid = (why: string, cause?: unknown) =>
    new McpGateError(
      McpGateErrorCode.EXPECTED_FAILURES_INVALID,
      `${source}: ${why}`,
      cause === undefined ? undefined : { cause },
    );
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw invalid("not valid YAML", error);
  }
  const baseline = emptyBaseline() as Record<McpRevision, Map<string, Expectation>>;
  if (data === null || data === undefined) return baseline;
  if (typeof data !== "object" || Array.isArray(data)) throw invalid(BASELINE_SHAPE);
  const entries: Record<McpRevision, string[]> = Object.fromEntries(
    MCP_REVISIONS.map((revision) => [revision, []]),
  ) as unknown as Record<McpRevision, string[]>;
  for (const [key, value] of Object.entries(data)) {
    if (key === "client") continue;
    if (key === "server") {
      const list = serverList(value, "server", invalid);
      for (const revision of MCP_REVISIONS) entries[revision].push(...list);
      continue;
    }
    if (!(MCP_REVISIONS as readonly string[]).includes(key)) {
      throw invalid(
        `unknown key ${JSON.stringify(key)}; ${BASELINE_SHAPE}, revisions being ${MCP_REVISIONS.join(", ")}`,
      );
    }
    if (value === null || value === undefined) continue;
    if (typeof value !== "object" || Array.isArray(value)) {
      throw invalid(`${key} must be a mapping like { server: [scenario, …] }`);
    }
    const section = value as Record<string, unknown>;
    const extra = Object.keys(section).filter((name) => name !== "server" && name !== "client");
    if (extra.length > 0) throw invalid(`${key} has ${extra.join(", ")}; only server is read`);
    entries[key as McpRevision].push(...serverList(section.server, `${key}.server`, invalid));
  }
  for (const revision of MCP_REVISIONS) {
    baseline[revision] = expectations(entries[revision], revision, invalid);
  }
  return baseline;
}

function serverList(
  value: unknown,
  where: string,
  invalid: (why: string) => McpGateError,
): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`${where} must be a list of scenario names`);
  return value.map((entry) => {
    if (typeof entry === "string" && entry.trim() !== "") return entry.trim();
    if (entry !== null && typeof entry === "object" && !Array.isArray(entry)) {
      const [key, val] = Object.entries(entry)[0] ?? [];
      throw invalid(
        `${where} has ${JSON.stringify(entry)}, a mapping: did you mean '${key}:${String(val)}' (no space after the colon)?`,
      );
    }
    throw invalid(`${where} has ${JSON.stringify(entry)}; expected a scenario name`);
  });
}

function expectations(
  list: readonly string[],
  revision: McpRevision,
  invalid: (why: string) => McpGateError,
): Map<string, Expectation> {
  const byScenario = new Map<string, { whole: boolean; checks: Set<string> }>();
  for (const entry of list) {
    const colon = entry.indexOf(":");
    const scenario = colon === -1 ? entry : entry.slice(0, colon);
    const check = colon === -1 ? undefined : entry.slice(colon + 1);
    if (scenario === "" || check === "") {
      throw invalid(`${JSON.stringify(entry)}: expected <scenario> or <scenario>:<check-id>`);
    }
    const expectation = byScenario.get(scenario) ?? { whole: false, checks: new Set<string>() };
    if (check === undefined) expectation.whole = true;
    else expectation.checks.add(check);
    if (expectation.whole && expectation.checks.size > 0) {
      throw invalid(
        `at ${revision}, ${scenario} is expected to fail as a whole and by check (${[...expectation.checks].map((c) => `${scenario}:${c}`).join(", ")}); keep one`,
      );
    }
    byScenario.set(scenario, expectation);
  }
  return byScenario;
}

/** Reads and parses an expected-failures file; see `parseExpectedFailures`. */
export async function readExpectedFailures(path: string): Promise<Baseline> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new McpGateError(
      McpGateErrorCode.EXPECTED_FAILURES_INVALID,
      `cannot read the conformance expected-failures file ${path}; create it or remove the setting`,
      { cause: error },
    );
  }
  return parseExpectedFailures(text, path);
}
