import { describe, expect, it } from "vitest";
import { renderMarkdown, withFindIt } from "../../../src/ci/report/markdown.js";
import { sampleReport } from "./sample.js";

describe("renderMarkdown", () => {
  it("heads a failed run with a cross and a passed run with a check mark", () => {
    expect(renderMarkdown(sampleReport())).toMatch(/^## ❌ Pipeline failed: `todo-mcp:dev`\n/);
    const passed = { ...sampleReport(), ok: true, checks: [] };
    expect(renderMarkdown(passed)).toMatch(/^## ✅ Pipeline passed: `todo-mcp:dev`\n/);
  });

  it("shows the image facts on one line", () => {
    expect(renderMarkdown(sampleReport(), { durationMs: 95_000 })).toContain(
      "Image `todo-mcp:dev` · digest `sha256:7cb6f406ea18dd15fd6bc29f23646e28f63cce9e29390a41f8e97c32e8c6ee07` · 134.2 MB (48.1 MB compressed) · took 1m 35s",
    );
  });

  it("renders one table row per check with status, id, summary and duration", () => {
    const markdown = renderMarkdown(sampleReport());
    expect(markdown).toContain("| | Check | Result | Duration |\n|---|---|---|---:|\n");
    expect(markdown).toContain("| ✅ | non-root | runs as 1000:1000 | 420ms |");
    expect(markdown).toContain("| ❌ | trivy | found 1 secret (1 HIGH) | 12.3s |");
    expect(markdown).toContain("| ⏭️ | compose-smoke | skipped: an earlier gate \\| failed | 0ms |");
  });

  it("adds a collapsed details block for failed and skipped checks only", () => {
    const markdown = renderMarkdown(sampleReport());
    expect(markdown).toContain(
      '<details>\n<summary>❌ <b>trivy</b>: found 1 secret (1 HIGH)</summary>\n\n```text\nsecret HIGH private-key "Asymmetric Private Key" in /app/config/deploy-key.pem:2\n',
    );
    expect(markdown).toContain("<summary>⏭️ <b>compose-smoke</b>");
    expect(markdown).not.toContain("<b>non-root</b>");
    expect(markdown.match(/<details>/g)).toHaveLength(2);
    expect(markdown.match(/<\/details>/g)).toHaveLength(2);
  });

  it("keeps backticks in details from closing the code block early", () => {
    const report = sampleReport();
    report.checks[1] = { ...report.checks[1], details: ["```", "after"] } as never;
    expect(renderMarkdown(report)).toContain("````text\n```\nafter\n````");
  });

  it("lists stages when given", () => {
    const markdown = renderMarkdown(sampleReport(), {
      stages: [
        { name: "build", status: "passed", durationMs: 61_000 },
        { name: "publish", status: "skipped", durationMs: 0 },
      ],
    });
    expect(markdown).toContain("### Stages");
    expect(markdown).toContain("| ✅ | build | passed | 1m 1s |");
    expect(markdown).toContain("| ⏭️ | publish | skipped | 0ms |");
  });

  it("lists published references, or says nothing was published", () => {
    expect(renderMarkdown(sampleReport())).toContain("### Published\n\nNothing was published.");
    const published = { ...sampleReport(), published: ["ghcr.io/o/r:1.2.3", "ghcr.io/o/r:latest"] };
    expect(renderMarkdown(published)).toContain(
      "### Published\n\n- `ghcr.io/o/r:1.2.3`\n- `ghcr.io/o/r:latest`\n",
    );
  });

  it("says where to find the server: its MCP Registry name and the image by digest", () => {
    const published = {
      ...sampleReport(),
      image: { ...sampleReport().image, ref: "127.0.0.1:5000/o/r:1.2.3" },
      mcpRegistry: { name: "io.github.o/r", entry: null },
    };
    expect(renderMarkdown(published)).toContain(
      "### Find it\n\n- MCP Registry name: `io.github.o/r` (server.json; not listed in an MCP Registry yet: a release lists it with `mcp-registry-publish`)\n- Image: `127.0.0.1:5000/o/r@sha256:7cb6f406ea18dd15fd6bc29f23646e28f63cce9e29390a41f8e97c32e8c6ee07`\n",
    );
  });

  it("links the registry's entry once one is published, and says when the image was not", () => {
    const entry =
      "https://registry.modelcontextprotocol.io/v0.1/servers/io.github.o%2Fr/versions/1.2.3";
    const report = {
      ...sampleReport(),
      image: { ...sampleReport().image, digest: null },
      mcpRegistry: { name: "io.github.o/r", entry },
    };
    expect(renderMarkdown(report)).toContain(
      `### Find it\n\n- MCP Registry: \`io.github.o/r\`, ${entry}\n- Image: not published by this run\n`,
    );
  });

  it("has no Find it section when there is neither a server name nor a published digest", () => {
    const report = { ...sampleReport(), image: { ...sampleReport().image, digest: null } };
    expect(renderMarkdown(report)).not.toContain("### Find it");
  });

  it("puts a published registry entry into Find it, keeping the rest of report.md as it was", () => {
    const report = {
      ...sampleReport(),
      published: ["ghcr.io/o/r:1.0.0"],
      verify: ["cosign verify ghcr.io/o/r@sha256:1"],
      signatures: [],
      mcpRegistry: { name: "io.github.o/r", entry: null },
    };
    const before = renderMarkdown(report, { durationMs: 95_000 });
    expect(before).toContain("- MCP Registry name: `io.github.o/r` (server.json; not listed");
    const entry = "https://registry.example/v0.1/servers/io.github.o%2Fr/versions/1.0.0";
    const after = withFindIt(before, { ...report, mcpRegistry: { name: "io.github.o/r", entry } });
    expect(after).toBe(
      before.replace(/- MCP Registry name: .*\n/, `- MCP Registry: \`io.github.o/r\`, ${entry}\n`),
    );
    // Without a section to replace, one is added at the end.
    expect(withFindIt("## report\n", { ...report, mcpRegistry: { name: "n/x", entry } })).toContain(
      `## report\n\n### Find it\n\n- MCP Registry: \`n/x\`, ${entry}\n`,
    );
  });
});
