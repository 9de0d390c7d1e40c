import { describe, expect, it } from "vitest";
import { resolveUid } from "../../ci/checks/non-root.js";
import { parseDockerSize } from "../../ci/checks/size-budget.js";

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

describe("parseDockerSize", () => {
  it.each([
    ["132MB", 132_000_000],
    ["1.73MB", 1_730_000],
    ["4.1kB", 4_100],
    ["0B", 0],
  ])("reads %s as %i bytes", (text, bytes) => {
    expect(parseDockerSize(text)).toBe(bytes);
  });
});
