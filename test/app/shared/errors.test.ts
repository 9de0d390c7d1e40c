import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AppError, ErrorCode, NotFoundError, ValidationError } from "../../../app/shared/errors.js";

describe("ValidationError.fromZod", () => {
  const Body = z.strictObject({ title: z.string(), priority: z.enum(["low", "high"]) });

  it("names the first failing field and lists every issue", () => {
    const result = Body.safeParse({ title: 3, priority: "mid" });
    const error = ValidationError.fromZod(result.error as z.ZodError, "body");
    expect(error.field).toBe("title");
    expect(error.message).toMatch(/^Invalid body: title: .*; priority: /);
    expect(error.code).toBe(ErrorCode.VALIDATION_FAILED);
    expect(error.cause).toBe(result.error);
  });

  it("attributes path-less issues to the given field without repeating it", () => {
    const result = z.uuid().safeParse("nope");
    const error = ValidationError.fromZod(result.error as z.ZodError, "id", "id");
    expect(error.field).toBe("id");
    expect(error.message).toBe("Invalid id: Invalid UUID");
  });
});

describe("AppError", () => {
  it("keeps the subclass name and code for logs and mapping", () => {
    const error = new NotFoundError("No task with id x");
    expect(error).toBeInstanceOf(AppError);
    expect(error.name).toBe("NotFoundError");
    expect(error.code).toBe("NOT_FOUND");
  });
});
