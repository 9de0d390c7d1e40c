import { createHash, timingSafeEqual } from "node:crypto";

/**
 * True when an `Authorization` header carries exactly `Bearer <expected>`.
 * Both sides are hashed first so the comparison takes the same time whatever the
 * length or content of the presented token.
 */
export function bearerMatches(header: string | undefined, expected: string): boolean {
  const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(header ?? "");
  const presented = match?.[1] ?? "";
  const same = timingSafeEqual(digest(presented), digest(expected));
  return same && presented.length > 0;
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}
