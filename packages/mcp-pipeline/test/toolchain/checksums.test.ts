import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseChecksums, sha256File, sha256Of } from "../../src/toolchain/checksums.js";

const A = "a".repeat(64);
const B = "B".repeat(64);

describe("parseChecksums", () => {
  it("reads GoReleaser's text mode lines (two spaces between hash and name)", () => {
    const parsed = parseChecksums(
      `${A}  trivy_0.74.0_Linux-64bit.tar.gz\n${"c".repeat(64)}  trivy_0.74.0_macOS-ARM64.tar.gz\n`,
    );
    expect(parsed.get("trivy_0.74.0_Linux-64bit.tar.gz")).toBe(A);
    expect(parsed.size).toBe(2);
  });

  it("reads binary mode lines as Compose and Buildx publish them, lowercasing the hash", () => {
    const parsed = parseChecksums(
      `${B} *docker-compose-linux-x86_64\n${A} *./buildx-v0.29.1.linux-amd64`,
    );
    expect(parsed.get("docker-compose-linux-x86_64")).toBe("b".repeat(64));
    expect(parsed.get("buildx-v0.29.1.linux-amd64")).toBe(A);
  });

  it("ignores blank lines, comments and lines without a full sha256", () => {
    const parsed = parseChecksums(`\n# comment\n${"a".repeat(63)}  short\n${A}  ok\n`);
    expect([...parsed.keys()]).toEqual(["ok"]);
  });
});

describe("sha256File", () => {
  const dir = mkdtempSync(join(tmpdir(), "sha-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("hashes a file the same way as its content", async () => {
    const file = join(dir, "f");
    writeFileSync(file, "hello\n");
    expect(await sha256File(file)).toBe(sha256Of("hello\n"));
    expect(sha256Of("hello\n")).toBe(
      "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
    );
  });
});
