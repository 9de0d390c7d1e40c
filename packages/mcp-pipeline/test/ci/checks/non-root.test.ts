import { describe, expect, it } from "vitest";
import { resolveUid, runsAsRoot } from "../../../src/ci/checks/non-root.js";

describe("resolveUid", () => {
  const passwd = "root:x:0:0:root:/root:/sbin/nologin\nmcpuser:x:1000:1000::/app:/sbin/nologin\n";

  it.each([
    ["1000:1000", 1000],
    ["1000", 1000],
    ["", 0],
    ["root", 0],
    ["mcpuser:mcpuser", 1000],
    // The group never makes a user: root with a non-root group is root, and the reverse is not.
    ["0:1000", 0],
    ["root:mcpuser", 0],
    ["1000:0", 1000],
  ])("resolves USER %j to UID %i", (user, uid) => {
    expect(resolveUid(user, passwd)).toBe(uid);
  });

  it("cannot resolve a name the image does not know", () => {
    expect(resolveUid("ghost", passwd)).toBeUndefined();
  });
});

describe("runsAsRoot", () => {
  it("is false when real, effective and saved UIDs are all non-zero", () => {
    expect(runsAsRoot({ real: 1000, effective: 1000, saved: 1000 })).toBe(false);
  });

  it.each([
    ["real", { real: 0, effective: 1000, saved: 1000 }],
    ["effective", { real: 1000, effective: 0, saved: 1000 }],
    ["saved (root dropped only for now)", { real: 1000, effective: 1000, saved: 0 }],
  ])("is true when the %s UID is 0", (_which, uids) => {
    expect(runsAsRoot(uids)).toBe(true);
  });
});
