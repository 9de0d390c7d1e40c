import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ProgressLine } from "../../src/host/progress.js";

/** A stream that records what was written (the far edge: a terminal or a CI log). */
function sink(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, writes, write: (t: string) => writes.push(t) };
}

describe("ProgressLine", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("off a terminal, repeats the current note with the elapsed time while a step is silent", () => {
    const out = sink(false);
    const line = new ProgressLine("[6/9] trivy", out, { heartbeatMs: 25_000 });
    line.update("go build github.com/aquasecurity/trivy/cmd/trivy");
    expect(out.writes).toEqual([
      "[6/9] trivy … go build github.com/aquasecurity/trivy/cmd/trivy (0ms)\n",
    ]);
    vi.advanceTimersByTime(24_000);
    expect(out.writes).toHaveLength(1);
    vi.advanceTimersByTime(1_000);
    expect(out.writes[1]).toBe(
      "[6/9] trivy … go build github.com/aquasecurity/trivy/cmd/trivy (still running, 25s)\n",
    );
    vi.advanceTimersByTime(25_000);
    expect(out.writes[2]).toMatch(/\(still running, 50s\)\n$/);
    line.finish("done");
    vi.advanceTimersByTime(60_000);
    expect(out.writes).toHaveLength(4);
    expect(out.writes[3]).toBe("[6/9] trivy done (50s)\n");
  });

  it("never leaves a gap longer than the heartbeat between lines, whatever the notes do", () => {
    const out = sink(false);
    const stamps: number[] = [];
    const line = new ProgressLine("[x]", {
      isTTY: false,
      write: (t: string) => {
        stamps.push(Date.now());
        return out.write(t);
      },
    });
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(7_000 + i * 3_000);
      if (i % 3 === 0) line.update(`phase ${i}`);
    }
    line.finish("done");
    const gaps = stamps.slice(1).map((t, i) => t - (stamps[i] ?? 0));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(30_000);
  });

  it("does not print a heartbeat when notes come often enough", () => {
    const out = sink(false);
    const line = new ProgressLine("[x]", out, { heartbeatMs: 25_000 });
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(20_000);
      line.update(`step ${i}`);
    }
    line.finish("ok");
    expect(out.writes.filter((w) => w.includes("still running"))).toEqual([]);
  });

  it("on a terminal, rewrites one line in place with the elapsed time every second", () => {
    const out = sink(true);
    const line = new ProgressLine("[2/9] registry", out);
    line.update("apt-get install");
    vi.advanceTimersByTime(3_000);
    expect(out.writes.every((w) => w.startsWith("\r\x1b[2K"))).toBe(true);
    expect(out.writes.some((w) => w.includes("\n"))).toBe(false);
    expect(out.writes.at(-1)).toBe("\r\x1b[2K[2/9] registry … apt-get install 3s");
    line.finish("done");
    expect(out.writes.at(-1)).toBe("\r\x1b[2K[2/9] registry done (3s)\n");
  });

  it("keeps a warning on screen above the progress line", () => {
    const out = sink(true);
    const line = new ProgressLine("[2/9] registry", out);
    line.persist("  ! port 5000 is taken");
    expect(out.writes.at(-2)).toBe("\r\x1b[2K  ! port 5000 is taken\n");
    expect(out.writes.at(-1)?.startsWith("\r\x1b[2K[2/9] registry …")).toBe(true);
    line.finish("done");
  });
});
