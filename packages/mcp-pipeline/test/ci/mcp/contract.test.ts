import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Tool } from "@modelcontextprotocol/client";
import { beforeAll, describe, expect, it } from "vitest";
import {
  evaluateContract,
  renderContractLines,
  renderContractMarkdown,
} from "../../../src/ci/mcp/contract.js";
import { diffContracts } from "../../../src/ci/mcp/contract-diff.js";
import {
  type ContractChange,
  type ContractSnapshot,
  type ContractTool,
  parseSnapshot,
  serializeSnapshot,
  snapshotFromTools,
  UPDATE_CONTRACT_COMMAND,
} from "../../../src/ci/mcp/contract-snapshot.js";
import { McpGateError } from "../../../src/ci/mcp/errors.js";
import { REPO_ROOT } from "../../paths.js";
import { readLiveServer } from "./live-server.js";

let liveTools: Tool[];
let base: ContractSnapshot;

beforeAll(async () => {
  liveTools = (await readLiveServer()).tools;
  base = snapshotFromTools(liveTools);
});

/** A deep copy of the live snapshot with `edit` applied to the tool called `name`. */
function withTool(name: string, edit: (tool: ContractTool) => void): ContractSnapshot {
  const copy = structuredClone(base);
  const tool = copy.tools.find((candidate) => candidate.name === name);
  if (!tool) throw new Error(`no tool ${name} in the live snapshot`);
  edit(tool);
  return copy;
}

// The schemas are plain JSON; these reach into them without a cast at every step.
// biome-ignore lint/suspicious/noExplicitAny: test access into arbitrary JSON Schema
type Json = any;
const input = (tool: ContractTool): Json => tool.inputSchema;
const output = (tool: ContractTool): Json => tool.outputSchema;

/** The same JSON with every object's keys in reverse order, at every depth. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([key, inner]) => [key, reverseKeys(inner)]),
  );
}

function summarize(changes: readonly ContractChange[]): string[] {
  return changes.map((change) => `${change.kind} ${change.change} ${change.path}`);
}

describe("snapshotFromTools", () => {
  it("writes byte-identical JSON for the same server, whatever the order of tools and keys", async () => {
    const again = (await readLiveServer()).tools;
    const reordered = [...again].reverse().map((tool) => reverseKeys(tool) as Tool);
    const first = serializeSnapshot(snapshotFromTools(liveTools));
    expect(serializeSnapshot(snapshotFromTools(again))).toBe(first);
    expect(serializeSnapshot(snapshotFromTools(reordered))).toBe(first);
    expect(first.endsWith("}\n")).toBe(true);
  });

  it("keeps only the contract fields, sorted by tool name, without the $schema dialect", () => {
    const extra = liveTools.map((tool) => ({ ...tool, _meta: { build: "abc" }, icons: [] }));
    const snapshot = snapshotFromTools(extra);
    expect(snapshot.version).toBe(1);
    expect(snapshot.tools.map((tool) => tool.name)).toEqual([
      "create_task",
      "delete_task",
      "get_task",
      "list_tasks",
      "mark_task_completed",
      "update_task",
    ]);
    for (const tool of snapshot.tools) {
      expect(Object.keys(tool)).toEqual([
        "name",
        "title",
        "description",
        "inputSchema",
        "outputSchema",
        "annotations",
      ]);
      expect(tool.inputSchema).not.toHaveProperty("$schema");
    }
    expect(liveTools[0]?.inputSchema).toHaveProperty("$schema");
  });

  it("treats the order of required and type lists as no change", () => {
    const tools = [
      { name: "a", inputSchema: { type: "object", required: ["x", "y"], properties: {} } },
    ];
    const swapped = [
      { name: "a", inputSchema: { properties: {}, required: ["y", "x"], type: "object" } },
    ];
    expect(serializeSnapshot(snapshotFromTools(swapped))).toBe(
      serializeSnapshot(snapshotFromTools(tools)),
    );
  });

  it("matches the committed mcp-contract.json format, which parses back to the same snapshot", async () => {
    const text = await readFile(resolve(REPO_ROOT, "mcp-contract.json"), "utf8");
    const committed = parseSnapshot(text);
    expect(serializeSnapshot(committed)).toBe(text);
  });
});

describe("parseSnapshot", () => {
  it("names the field when the file is not a version-1 snapshot", () => {
    expect(() => parseSnapshot('{"version": 2, "tools": []}', "x.json")).toThrow(
      /x\.json: version: must be 1/,
    );
    expect(() => parseSnapshot('{"version": 1, "tools": [{"name": "t"}]}')).toThrow(
      /tools\.0\.inputSchema/,
    );
  });

  it("says how to regenerate a file that is not JSON, keeping the parser's error as the cause", () => {
    const error = (() => {
      try {
        parseSnapshot("{oops");
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(McpGateError);
    expect((error as McpGateError).message).toContain(UPDATE_CONTRACT_COMMAND);
    expect((error as McpGateError).cause).toBeInstanceOf(SyntaxError);
  });
});

describe("diffContracts on the live tools/list of our server", () => {
  it("classifies a renamed tool and an optional argument made required as breaking, naming both", () => {
    const mutated = structuredClone(liveTools).map((tool) => {
      if (tool.name === "delete_task") return { ...tool, name: "remove_task" };
      if (tool.name === "create_task") {
        const schema = tool.inputSchema as Json;
        schema.required = [...schema.required, "due_date"];
      }
      return tool;
    });
    const before = snapshotFromTools(liveTools);
    const after = snapshotFromTools(mutated);

    const changes = diffContracts(before, after);

    expect(summarize(changes)).toEqual([
      "breaking argument-required create_task.arguments.due_date",
      "breaking tool-renamed delete_task",
    ]);
    expect(changes[1]?.message).toMatch(/delete_task was renamed to remove_task/);
    const check = evaluateContract({ snapshot: before, current: after });
    expect(check.status).toBe("failed");
    expect(check.breaking).toBe(2);
    expect(check.details.join("\n")).toContain("create_task.arguments.due_date");
    expect(check.details.join("\n")).toContain("remove_task");
  });

  it("finds no change between the server and its own snapshot", () => {
    expect(diffContracts(base, snapshotFromTools(liveTools))).toEqual([]);
    const check = evaluateContract({ snapshot: base, current: base });
    expect(check).toMatchObject({ status: "passed", changes: [], breaking: 0, compatible: 0 });
    expect(check.summary).toMatch(/unchanged: 6 tools/);
  });
});

describe("diffContracts: breaking changes", () => {
  it("reports a removed tool", () => {
    const after = structuredClone(base);
    after.tools = after.tools.filter((tool) => tool.name !== "get_task");
    expect(summarize(diffContracts(base, after))).toEqual(["breaking tool-removed get_task"]);
  });

  it("reports two removed tools of the same shape as removed and added, not as guessed renames", () => {
    const after = structuredClone(base);
    for (const tool of after.tools) {
      if (tool.name === "get_task") tool.name = "fetch_task";
      if (tool.name === "delete_task") tool.name = "drop_task";
    }
    expect(summarize(diffContracts(base, after))).toEqual([
      "breaking tool-removed delete_task",
      "breaking tool-removed get_task",
      "compatible tool-added drop_task",
      "compatible tool-added fetch_task",
    ]);
  });

  it("reports a removed argument", () => {
    const after = withTool("create_task", (tool) => {
      delete input(tool).properties.due_date;
    });
    expect(summarize(diffContracts(base, after))).toEqual([
      "breaking argument-removed create_task.arguments.due_date",
    ]);
  });

  it("reports a new required argument, and a new optional one as compatible", () => {
    const after = withTool("create_task", (tool) => {
      input(tool).properties.owner = { type: "string" };
      input(tool).properties.tags = { type: "array", items: { type: "string" } };
      input(tool).required.push("owner");
    });
    expect(summarize(diffContracts(base, after))).toEqual([
      "breaking argument-added-required create_task.arguments.owner",
      "compatible argument-added create_task.arguments.tags",
    ]);
  });

  it("reports an enum value removed from an argument", () => {
    const after = withTool("create_task", (tool) => {
      input(tool).properties.priority.enum = ["medium", "high"];
    });
    const changes = diffContracts(base, after);
    expect(summarize(changes)).toEqual([
      "breaking enum-value-removed create_task.arguments.priority",
    ]);
    expect(changes[0]?.message).toBe('no longer accepts "low"');
  });

  it("reports a nullable argument made non-nullable as a narrowed type", () => {
    const after = withTool("update_task", (tool) => {
      const property = input(tool).properties.description;
      input(tool).properties.description = {
        ...property.anyOf[0],
        description: property.description,
      };
    });
    const changes = diffContracts(base, after);
    expect(summarize(changes)).toEqual([
      "breaking type-narrowed update_task.arguments.description",
    ]);
    expect(changes[0]?.message).toMatch(/from string \| null to string; null values/);
  });

  it("reports number → integer, a type union losing a member, and string → number", () => {
    const tool = (props: Record<string, unknown>): ContractSnapshot => ({
      version: 1,
      tools: [{ name: "t", inputSchema: { type: "object", properties: props } }],
    });
    const before = tool({
      a: { type: "number" },
      b: { type: ["string", "null"] },
      c: { type: "string" },
    });
    const after = tool({ a: { type: "integer" }, b: { type: "string" }, c: { type: "number" } });
    expect(summarize(diffContracts(before, after))).toEqual([
      "breaking type-narrowed t.arguments.a",
      "breaking type-narrowed t.arguments.b",
      "breaking type-changed t.arguments.c",
    ]);
    expect(summarize(diffContracts(after, before))).toEqual([
      "breaking type-changed t.arguments.c",
      "compatible type-widened t.arguments.a",
      "compatible type-widened t.arguments.b",
    ]);
  });

  it("reports tighter string and number constraints as narrowed, looser ones as widened", () => {
    const after = withTool("create_task", (tool) => {
      const title = input(tool).properties.title;
      title.maxLength = 100;
      title.pattern = "^[^\\n]+$";
      delete input(tool).properties.description.maxLength;
    });
    expect(summarize(diffContracts(base, after))).toEqual([
      "breaking constraint-narrowed create_task.arguments.title.maxLength",
      "breaking constraint-narrowed create_task.arguments.title.pattern",
      "compatible constraint-widened create_task.arguments.description.maxLength",
    ]);
  });

  it("follows nested object properties and array items in arguments", () => {
    const nested = (required: string[], itemType: string): ContractSnapshot => ({
      version: 1,
      tools: [
        {
          name: "t",
          inputSchema: {
            type: "object",
            properties: {
              options: {
                type: "object",
                properties: {
                  flag: { type: "boolean" },
                  labels: { type: "array", items: { type: itemType } },
                },
                required,
              },
            },
          },
        },
      ],
    });
    expect(summarize(diffContracts(nested([], "string"), nested(["flag"], "integer")))).toEqual([
      "breaking argument-required t.arguments.options.flag",
      "breaking type-changed t.arguments.options.labels[]",
    ]);
  });

  it("reports an output field removed, and one made optional", () => {
    const after = withTool("delete_task", (tool) => {
      delete output(tool).properties.deleted;
      output(tool).required = ["id"];
    });
    const afterOptional = withTool("get_task", (tool) => {
      output(tool).properties.task.required = output(tool).properties.task.required.filter(
        (name: string) => name !== "due_date",
      );
    });
    expect(summarize(diffContracts(base, after))).toEqual([
      "breaking output-field-removed delete_task.output.deleted",
    ]);
    expect(summarize(diffContracts(base, afterOptional))).toEqual([
      "breaking output-field-optional get_task.output.task.due_date",
    ]);
  });

  it("reports an output that may return a new type or enum value, which clients have not seen", () => {
    const after = withTool("get_task", (tool) => {
      const task = output(tool).properties.task.properties;
      // The shape zod gives `.nullable().describe(…)`: the description beside the union.
      const { description, ...createdAt } = task.created_at;
      task.created_at = { anyOf: [createdAt, { type: "null" }], description };
      task.status.enum = [...task.status.enum, "archived"];
    });
    expect(summarize(diffContracts(base, after))).toEqual([
      "breaking output-type-widened get_task.output.task.created_at",
      "breaking output-enum-value-added get_task.output.task.status",
    ]);
  });

  it("reports readOnlyHint true → false as less safe", () => {
    const after = withTool("list_tasks", (tool) => {
      (tool.annotations as Json).readOnlyHint = false;
    });
    const changes = diffContracts(base, after);
    // list_tasks declares destructiveHint false, so only readOnlyHint gets less safe.
    expect(summarize(changes)).toEqual([
      "breaking hint-less-safe list_tasks.annotations.readOnlyHint",
    ]);
  });

  it("applies the MCP defaults when a hint disappears: a dropped destructiveHint false is destructive", () => {
    const after = withTool("create_task", (tool) => {
      delete (tool.annotations as Json).destructiveHint;
    });
    const changes = diffContracts(base, after);
    expect(summarize(changes)).toEqual([
      "breaking hint-less-safe create_task.annotations.destructiveHint",
    ]);
    expect(changes[0]?.message).toMatch(/from false to true \(not declared: MCP default\)/);
  });

  it("reports a change it cannot interpret as breaking rather than passing it", () => {
    const schema = (pattern: string): ContractSnapshot => ({
      version: 1,
      tools: [
        {
          name: "t",
          inputSchema: {
            type: "object",
            properties: { x: { allOf: [{ type: "string" }, { pattern }] } },
          },
        },
      ],
    });
    expect(summarize(diffContracts(schema("^a"), schema("^b")))).toEqual([
      "breaking schema-changed t.arguments.x",
    ]);
  });
});

describe("diffContracts: compatible changes", () => {
  it("reports an added tool", () => {
    const after = structuredClone(base);
    after.tools.push({
      name: "archive_task",
      inputSchema: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
    });
    expect(summarize(diffContracts(base, after))).toEqual(["compatible tool-added archive_task"]);
  });

  it("reports a changed tool description, title and argument description", () => {
    const after = withTool("get_task", (tool) => {
      tool.description = "Fetch one task.";
      tool.title = "Fetch task";
      input(tool).properties.id.description = "The id.";
    });
    expect(summarize(diffContracts(base, after))).toEqual([
      "compatible description-changed get_task",
      "compatible title-changed get_task",
      "compatible description-changed get_task.arguments.id",
    ]);
  });

  it("reports an enum value added, a required argument made optional and a default changed", () => {
    const after = withTool("create_task", (tool) => {
      input(tool).properties.priority.enum.push("urgent");
      input(tool).properties.priority.default = "low";
      input(tool).required = [];
    });
    expect(summarize(diffContracts(base, after))).toEqual([
      "compatible default-changed create_task.arguments.priority",
      "compatible enum-value-added create_task.arguments.priority",
      "compatible argument-optional create_task.arguments.title",
    ]);
  });

  it("reports an output field added and a hint made safer", () => {
    const after = withTool("update_task", (tool) => {
      output(tool).properties.changed = { type: "array", items: { type: "string" } };
      (tool.annotations as Json).destructiveHint = false;
    });
    expect(summarize(diffContracts(base, after))).toEqual([
      "compatible hint-safer update_task.annotations.destructiveHint",
      "compatible output-field-added update_task.output.changed",
    ]);
  });
});

describe("evaluateContract", () => {
  const renamed = () =>
    withTool("delete_task", (tool) => {
      tool.name = "remove_task";
    });

  it("fails without a snapshot and says how to write one", () => {
    const check = evaluateContract({ snapshot: undefined, current: base });
    expect(check.status).toBe("failed");
    expect(check.summary).toContain("mcp-contract.json does not exist");
    expect(check.details.join("\n")).toContain(UPDATE_CONTRACT_COMMAND);
  });

  it("passes compatible changes and lists them", () => {
    const after = structuredClone(base);
    after.tools.push({ name: "archive_task", inputSchema: { type: "object" } });
    const check = evaluateContract({ snapshot: base, current: after });
    expect(check.status).toBe("passed");
    expect(check.compatible).toBe(1);
    expect(check.details[0]).toMatch(/✓ compatible archive_task {2}tool-added/);
  });

  it("fails a breaking change on a minor release, naming the versions", () => {
    const check = evaluateContract({
      snapshot: base,
      current: renamed(),
      releaseVersion: "1.5.0",
      previousVersion: "1.4.2",
    });
    expect(check.status).toBe("failed");
    expect(check.acceptedAsMajor).toBe(false);
    expect(check.details.join("\n")).toContain("1.5.0 is not a new major version after 1.4.2");
  });

  it("passes the same breaking change on a major release and lists it", () => {
    const check = evaluateContract({
      snapshot: base,
      current: renamed(),
      releaseVersion: "v2.0.0",
      previousVersion: "1.4.2",
    });
    expect(check.status).toBe("passed");
    expect(check.acceptedAsMajor).toBe(true);
    expect(check.breaking).toBe(1);
    expect(check.summary).toContain("accepted for major release 2.0.0 (from 1.4.2)");
    expect(check.details[0]).toMatch(/✗ breaking {3}delete_task {2}tool-renamed/);
  });

  it("fails a breaking change when no previous version is known", () => {
    const check = evaluateContract({ snapshot: base, current: renamed(), releaseVersion: "2.0.0" });
    expect(check.status).toBe("failed");
  });

  it("refuses a version that is not semver", () => {
    expect(() =>
      evaluateContract({
        snapshot: base,
        current: base,
        releaseVersion: "two",
        previousVersion: "1.0.0",
      }),
    ).toThrow(/releaseVersion "two" is not a semver version/);
  });
});

describe("rendering", () => {
  const changes: ContractChange[] = [
    {
      kind: "breaking",
      tool: "t",
      path: "t.arguments.x",
      change: "type-narrowed",
      message: "type narrowed from string | null to string",
    },
    { kind: "compatible", tool: "u", path: "u", change: "tool-added", message: "tool u was added" },
  ];

  it("renders a Markdown table with pipes escaped", () => {
    expect(renderContractMarkdown(changes)).toBe(
      [
        "| kind | where | change | what |",
        "| --- | --- | --- | --- |",
        "| breaking | `t.arguments.x` | `type-narrowed` | type narrowed from string \\| null to string |",
        "| compatible | `u` | `tool-added` | tool u was added |",
        "",
      ].join("\n"),
    );
    expect(renderContractMarkdown([])).toBe("No changes to the tool contract.\n");
  });

  it("renders one terminal line per change", () => {
    expect(renderContractLines(changes)).toEqual([
      "✗ breaking   t.arguments.x  type-narrowed: type narrowed from string | null to string",
      "✓ compatible u  tool-added: tool u was added",
    ]);
  });
});
