import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { formatDuration, paint, renderTable } from "../../src/host/terminal.js";

describe("formatDuration", () => {
  it.each([
    [850, "850ms"],
    [12_340, "12.3s"],
    [245_000, "4m 5s"],
  ])("formats %i ms as %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("shows a dash for a duration that is not one", () => {
    expect(formatDuration(Number.NaN)).toBe("–");
    expect(formatDuration(-1)).toBe("–");
  });
});

/** A writable stream that claims to be a colour terminal. */
function tty(): NodeJS.WriteStream {
  return Object.assign(new PassThrough(), {
    isTTY: true,
    getColorDepth: () => 8,
    hasColors: () => true,
  }) as unknown as NodeJS.WriteStream;
}

describe("paint", () => {
  it("colours text on a colour terminal", () => {
    const saved = { NO_COLOR: process.env.NO_COLOR, FORCE_COLOR: process.env.FORCE_COLOR };
    delete process.env.NO_COLOR;
    delete process.env.FORCE_COLOR;
    try {
      expect(paint("red", "FAIL", tty())).toBe("\u001b[31mFAIL\u001b[39m");
    } finally {
      Object.assign(process.env, saved);
    }
  });

  it("leaves text plain when NO_COLOR is set, even on a terminal", () => {
    const saved = process.env.NO_COLOR;
    process.env.NO_COLOR = "1";
    try {
      expect(paint("red", "FAIL", tty())).toBe("FAIL");
    } finally {
      if (saved === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = saved;
    }
  });

  it("leaves text plain on something that is not a terminal", () => {
    const pipe = new PassThrough() as unknown as NodeJS.WriteStream;
    expect(paint("red", "FAIL", pipe)).toBe("FAIL");
  });
});

describe("renderTable", () => {
  it("pads every column but the last, aligns right where asked, and styles after measuring", () => {
    const lines = renderTable(
      [{ title: "ID" }, { title: "TIME", align: "right" }, { title: "SUMMARY" }],
      [
        ["non-root", "420ms", "runs as 1000"],
        ["trivy", "12.3s", "no findings"],
      ],
      (_row, column, padded) => (column === 0 ? `<${padded}>` : padded),
    );
    expect(lines).toEqual([
      "ID         TIME  SUMMARY",
      "<non-root>  420ms  runs as 1000",
      "<trivy   >  12.3s  no findings",
    ]);
  });
});
