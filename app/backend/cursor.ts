// Page cursors are opaque to clients: the seq of the last task on the page, versioned so the
// format can change without misreading an old cursor.
const PREFIX = "t1.";
const SEQ = /^t1\.([1-9][0-9]{0,14})$/;

/** The cursor for the page that follows the task with this seq. */
export function encodeCursor(seq: number): string {
  return Buffer.from(`${PREFIX}${seq}`, "utf8").toString("base64url");
}

/** The seq a cursor continues after, or undefined when it is not a cursor this server made. */
export function decodeCursor(cursor: string): number | undefined {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(cursor)) return undefined;
  const match = SEQ.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
