import type { Tool } from "@modelcontextprotocol/client";
import { describe, expect, it } from "vitest";
import {
  compareRevisions,
  renderRevisionMarkdown,
} from "../../../src/ci/mcp/contract-revisions.js";
import { snapshotFromTools } from "../../../src/ci/mcp/contract-snapshot.js";

const tool = (
  name: string,
  properties: NonNullable<Tool["inputSchema"]["properties"]> = {},
): Tool => ({
  name,
  description: `${name} does it.`,
  inputSchema: { type: "object", properties },
});
const snapshot = (...tools: Tool[]) => snapshotFromTools(tools);
const same = snapshot(tool("get_task", { id: { type: "string" } }), tool("list_tasks"));

describe("compareRevisions", () => {
  it("finds nothing when every revision lists the same tools", () => {
    const result = compareRevisions(
      [
        { revision: "2026-07-28", snapshot: same },
        { revision: "2025-11-25", snapshot: same },
      ],
      [],
    );
    expect(result).toMatchObject({
      reference: "2026-07-28",
      differences: [],
      undeclared: [],
      stale: [],
    });
  });

  it("names a tool missing under one revision, and one whose arguments differ, as undeclared", () => {
    const older = snapshot(tool("get_task", { id: { type: "integer" } }));
    const result = compareRevisions(
      [
        { revision: "2026-07-28", snapshot: same },
        { revision: "2025-11-25", snapshot: older },
      ],
      [],
    );
    expect(result.undeclared).toEqual(["get_task", "list_tasks"]);
    expect(result.differences.map((d) => [d.path, d.change, d.revision])).toEqual(
      expect.arrayContaining([
        ["list_tasks", "tool-removed", "2025-11-25"],
        ["get_task.arguments.id", "type-changed", "2025-11-25"],
      ]),
    );
    expect(result.lines.join("\n")).toMatch(/✗ undeclared list_tasks \(2026-07-28 → 2025-11-25\)/);
  });

  it("accepts a declared difference and lists it, and calls a declared tool that no longer differs stale", () => {
    const older = snapshot(tool("get_task", { id: { type: "string" } }));
    const declared = compareRevisions(
      [
        { revision: "2026-07-28", snapshot: same },
        { revision: "2025-11-25", snapshot: older },
      ],
      ["list_tasks"],
    );
    expect(declared.undeclared).toEqual([]);
    expect(declared.stale).toEqual([]);
    expect(declared.differences.every((d) => d.declared)).toBe(true);

    const stale = compareRevisions(
      [
        { revision: "2026-07-28", snapshot: same },
        { revision: "2025-11-25", snapshot: same },
      ],
      ["list_tasks"],
    );
    expect(stale.stale).toEqual(["list_tasks"]);
    expect(stale.lines.join("\n")).toMatch(/list_tasks is declared .* remove it from there/);
  });

  it("renders the differences as a table that says which are declared", () => {
    const result = compareRevisions(
      [
        { revision: "2026-07-28", snapshot: same },
        {
          revision: "2025-11-25",
          snapshot: snapshot(tool("get_task", { id: { type: "string" } })),
        },
      ],
      [],
    );
    expect(renderRevisionMarkdown(result)).toBe(
      [
        "| tool | revisions | change | what | declared |",
        "| --- | --- | --- | --- | --- |",
        `| \`list_tasks\` | 2026-07-28 → 2025-11-25 | \`tool-removed\` | ${result.differences[0]?.message} | **no** |`,
        "",
      ].join("\n"),
    );
  });
});
