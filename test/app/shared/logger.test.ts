import { describe, expect, it } from "vitest";
import { createLogger } from "../../../app/shared/logger.js";

function capture(level: "debug" | "info" | "warn" = "info", secrets: string[] = []) {
  const lines: string[] = [];
  const logger = createLogger({ name: "test", level, secrets, write: (line) => lines.push(line) });
  return { logger, lines, records: () => lines.map((line) => JSON.parse(line)) };
}

describe("createLogger", () => {
  it("writes one JSON object per line with level, name and message", () => {
    const { logger, lines, records } = capture();
    logger.info("hello", { port: 3000 });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith("\n")).toBe(true);
    expect(records()[0]).toMatchObject({ level: "info", name: "test", msg: "hello", port: 3000 });
  });

  it("drops lines below the configured level", () => {
    const { logger, lines } = capture("warn");
    logger.info("quiet");
    logger.warn("loud");
    expect(lines).toHaveLength(1);
  });

  it("says which levels it writes, so a caller can skip work done only for a line", () => {
    const { logger } = capture("info");
    expect(logger.enabled("debug")).toBe(false);
    expect(logger.enabled("info")).toBe(true);
    expect(logger.enabled("error")).toBe(true);
    expect(capture("debug").logger.enabled("debug")).toBe(true);
    expect(createLogger({ name: "off", level: "silent" }).enabled("error")).toBe(false);
  });

  it("redacts values under secret-looking keys", () => {
    const { logger, records } = capture();
    logger.info("request", { headers: { authorization: "Bearer abc", accept: "json" } });
    expect(records()[0].headers).toEqual({ authorization: "[REDACTED]", accept: "json" });
  });

  it("scrubs a configured secret wherever it appears, even in messages and errors", () => {
    const { logger, lines } = capture("info", ["s3cret-token"]);
    logger.info("sent s3cret-token to backend", { error: new Error("bad s3cret-token") });
    expect(lines.join("")).not.toContain("s3cret-token");
    expect(lines.join("")).toContain("[REDACTED]");
  });

  it("serializes errors with their code and cause", () => {
    const { logger, records } = capture();
    const cause = Object.assign(new Error("refused"), { code: "ECONNREFUSED" });
    logger.info("failed", { error: new Error("fetch failed", { cause }) });
    expect(records()[0].error).toMatchObject({
      message: "fetch failed",
      cause: { message: "refused", code: "ECONNREFUSED" },
    });
  });
});
