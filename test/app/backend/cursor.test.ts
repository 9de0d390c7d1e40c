import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "../../../app/backend/cursor.js";

describe("page cursors", () => {
  it("decode to the position they were made from", () => {
    for (const seq of [1, 42, 100_000, 2 ** 40]) expect(decodeCursor(encodeCursor(seq))).toBe(seq);
  });

  it("are opaque URL-safe strings", () => {
    expect(encodeCursor(12345)).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(encodeCursor(12345)).not.toContain("12345");
  });

  it("reject anything this server did not make", () => {
    const forged = (text: string) => Buffer.from(text).toString("base64url");
    for (const cursor of [
      "",
      "12",
      "not a cursor",
      "dDEuMQ==",
      forged("t1.0"),
      forged("t1.-5"),
      forged("t1.007"),
      forged("t1.1.5"),
      forged("t2.5"),
      forged("t1.9999999999999999"),
      forged("t1.5 "),
      "x".repeat(41),
    ]) {
      expect(decodeCursor(cursor), cursor).toBeUndefined();
    }
  });
});
