import { describe, expect, it } from "vitest";
import { resolveUid } from "../../../ci/checks/non-root.js";

describe("resolveUid", () => {
  const passwd = "root:x:0:0:root:/root:/sbin/nologin\nmcpuser:x:1000:1000::/app:/sbin/nologin\n";

  it.each([
    ["1000:1000", 1000],
    ["1000", 1000],
    ["", 0],
    ["root", 0],
    ["mcpuser:mcpuser", 1000],
  ])("resolves USER %j to UID %i", (user, uid) => {
    expect(resolveUid(user, passwd)).toBe(uid);
  });

  it("cannot resolve a name the image does not know", () => {
    expect(resolveUid("ghost", passwd)).toBeUndefined();
  });
});
