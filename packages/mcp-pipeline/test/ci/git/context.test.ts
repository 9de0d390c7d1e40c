import { describe, expect, it } from "vitest";
import { browsableUrl } from "../../../src/ci/git/context.js";

describe("browsableUrl", () => {
  it.each([
    ["git@github.com:owner/repo.git", "https://github.com/owner/repo"],
    ["ssh://git@github.com/owner/repo.git", "https://github.com/owner/repo"],
    ["https://user:token@github.com/owner/repo.git", "https://github.com/owner/repo"],
    ["git+https://github.com/owner/repo.git", "https://github.com/owner/repo"],
    ["ssh://git@git.example.com:2222/team/app.git", "https://git.example.com/team/app"],
    ["git@git.example.com:team/app.git", "https://git.example.com/team/app"],
    ["https://deploy:secret@git.example.com/team/app.git", "https://git.example.com/team/app"],
  ])("turns %s into %s", (remote, url) => {
    expect(browsableUrl(remote)).toBe(url);
  });

  it("says unknown for something that is not a URL", () => {
    expect(browsableUrl("../local-clone")).toBe("unknown");
  });
});
