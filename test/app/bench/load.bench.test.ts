import { describe, expect, it } from "vitest";
import type { Task } from "../../../app/shared/task.js";
import { REVISIONS } from "../support/clients.js";
import { spawnTsx } from "../support/processes.js";
import { startFakeBackend, startMcp, TOKEN } from "../support/servers.js";

const BENCH = "app/bench/load.bench.ts";

interface Summary {
  revision: string;
  creates_acknowledged: number;
  stored: number;
  lost: number;
  backend_killed: boolean;
  creates_per_s: number;
  p50_ms: number;
  mcp_rss_mib: number;
  backend_rss_mib: number;
  stored_before: number;
}

describe("npm run bench:load", () => {
  it("refuses a client count that is not a whole number of at least 1, with exit 2", async () => {
    for (const clients of ["0", "two", "1.5"]) {
      const bench = spawnTsx(BENCH, ["--clients", clients], {});
      expect(await bench.exited).toBe(2);
      expect(bench.stderrLines().join("\n")).toContain(
        `--clients must be a whole number ≥ 1, got "${clients}"`,
      );
    }
  });

  it("refuses a protocol revision it does not speak, with exit 2", async () => {
    const bench = spawnTsx(BENCH, ["--revision", "2024-11-05"], {});
    expect(await bench.exited).toBe(2);
    expect(bench.stderrLines().join("\n")).toContain("Allowed choices are 2026-07-28, 2025-11-25");
  });

  it("refuses --bundled against a stack it did not start", async () => {
    const bench = spawnTsx(BENCH, ["--url", "http://127.0.0.1:1/mcp", "--bundled"], {});
    expect(await bench.exited).toBe(2);
    expect(bench.stderrLines().join("\n")).toContain("--bundled needs host processes");
  });

  it("refuses --kill-backend against a stack it did not start", async () => {
    const bench = spawnTsx(BENCH, ["--url", "http://127.0.0.1:1/mcp", "--kill-backend"], {});
    expect(await bench.exited).toBe(2);
    expect(bench.stderrLines().join("\n")).toContain("--kill-backend needs host processes");
  });

  it.each(REVISIONS)(
    "seeds, loads over MCP %s, SIGKILLs and restarts its own backend, and finds every acknowledged create stored",
    {
      timeout: 60_000,
    },
    async (revision) => {
      const bench = spawnTsx(
        BENCH,
        [
          ...["--revision", revision, "--clients", "2", "--duration", "2", "--seed", "25"],
          ...["--kill-backend", "--json"],
        ],
        {},
      );
      expect(await bench.exited, bench.stderrLines().join("\n")).toBe(0);
      const summary = JSON.parse(bench.stdout()) as Summary;
      expect(summary.revision).toBe(revision);
      expect(summary.backend_killed).toBe(true);
      expect(summary.stored_before).toBe(25);
      expect(summary.creates_acknowledged).toBeGreaterThan(0);
      expect(summary.lost).toBe(0);
      expect(summary.stored).toBeGreaterThanOrEqual(summary.creates_acknowledged);
      expect(summary.p50_ms).toBeGreaterThan(0);
      expect(summary.mcp_rss_mib).toBeGreaterThan(0);
      expect(summary.backend_rss_mib).toBeGreaterThan(0);
    },
  );

  it("exits 1 when a stack acknowledges creates that it does not store", {
    timeout: 60_000,
  }, async () => {
    const at = "2025-01-01T00:00:00.000Z";
    const acknowledged: Task = {
      id: "3f6c1d2e-8a4b-4c1d-9e2f-0a1b2c3d4e5f",
      title: "never stored",
      description: null,
      priority: "low",
      due_date: null,
      status: "pending",
      created_at: at,
      updated_at: at,
      completed_at: null,
    };
    // Answers every create as done and lists nothing: the writes it acknowledged are lost.
    const forgetful = await startFakeBackend({
      route: (method) =>
        method === "POST"
          ? { status: 201, body: acknowledged }
          : { status: 200, body: { tasks: [], next_cursor: null } },
    });
    const mcp = await startMcp(forgetful.url);
    try {
      const bench = spawnTsx(
        BENCH,
        [
          "--url",
          `${mcp.url}/mcp`,
          "--backend-url",
          forgetful.url,
          "--clients",
          "1",
          "--duration",
          "1",
        ],
        { SERVICE_AUTH_TOKEN: TOKEN },
      );
      expect(await bench.exited).toBe(1);
      expect(bench.stdout()).toMatch(/durability\s+acknowledged [1-9]\d*, stored 0, lost 1/);
      expect(bench.stdout()).toContain("FAIL");
    } finally {
      await mcp.close();
      await forgetful.close();
    }
  });
});
