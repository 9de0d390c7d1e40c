import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { commandSmoke } from "../../../src/ci/smoke/command.js";

// Real processes: Node itself plays the project's smoke script.
const node = process.execPath;
const opts = (timeoutSeconds = 30) => ({
  cwd: tmpdir(),
  url: new URL("http://127.0.0.1:43210/"),
  env: { RUN_TOKEN: "abc" },
  timeoutSeconds,
});

describe("commandSmoke", () => {
  it("passes on exit 0, giving the command the service's URL and the run's environment", async () => {
    const notes = await commandSmoke(
      [
        node,
        "-e",
        "console.log('url=' + process.env.SMOKE_URL + ' token=' + process.env.RUN_TOKEN)",
      ],
      opts(),
    );
    expect(notes[0]).toMatch(/: exit 0$/);
    expect(notes).toContain("url=http://127.0.0.1:43210/ token=abc");
  });

  it("fails on any other exit code, with the command's last output lines", async () => {
    const failed = commandSmoke(
      [node, "-e", "console.error('no tasks came back'); process.exit(3)"],
      opts(),
    );
    await expect(failed).rejects.toThrow(/ exited with 3$/);
    await expect(failed).rejects.toMatchObject({ stderr: "no tasks came back" });
  });

  it("fails a command that outlives its timeout, saying so", async () => {
    await expect(
      commandSmoke([node, "-e", "setInterval(() => {}, 1000)"], opts(1)),
    ).rejects.toThrow(/ timed out after 1 s$/);
  });
});
