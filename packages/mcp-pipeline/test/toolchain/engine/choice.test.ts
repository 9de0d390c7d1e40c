import { describe, expect, it } from "vitest";
import {
  chooseEngine,
  dockerMajor,
  parseDockerdVersion,
} from "../../../src/toolchain/engine/choice.js";
import { currentEngine } from "../../../src/toolchain/versions.js";

describe("chooseEngine", () => {
  it("installs the distribution's docker.io where no engine is, by default", () => {
    expect(chooseEngine({ requested: "debian", running: undefined, installed: undefined })).toEqual(
      { kind: "install-debian" },
    );
  });

  it("installs the current engine where no engine is, when asked for it", () => {
    expect(
      chooseEngine({ requested: "current", running: undefined, installed: undefined }),
    ).toEqual({ kind: "install-current" });
  });

  it.each([
    ["debian", "28.5.2"],
    ["current", "29.1.0"],
    ["current", "25.0.0"],
  ] as const)(
    "keeps a running Docker ≥ 25 (asked for %s, running %s), without a warning",
    (requested, running) => {
      expect(chooseEngine({ requested, running, installed: undefined })).toEqual({
        kind: "keep",
        version: running,
      });
    },
  );

  it("keeps a running Docker 20.10 by default, warning that it is out of support and naming the way out", () => {
    const choice = chooseEngine({
      requested: "debian",
      running: "20.10.24+dfsg1",
      installed: undefined,
    });
    expect(choice).toMatchObject({ kind: "keep", version: "20.10.24+dfsg1" });
    expect(choice.kind === "keep" && choice.warning).toMatch(
      /^Docker 20\.10\.24\+dfsg1 is older than 25 .*MCP_PIPELINE_ENGINE=current installs Docker 28\.5\.2/,
    );
  });

  it("refuses a running Docker 24 when the current engine was asked for, naming the version and what to do", () => {
    const choice = chooseEngine({ requested: "current", running: "24.0.9", installed: undefined });
    expect(choice.kind).toBe("refuse");
    if (choice.kind !== "refuse") return;
    expect(choice.message).toBe(
      "MCP_PIPELINE_ENGINE=current asks for Docker ≥ 25, but Docker 24.0.9 runs here, and setup does not replace a machine's engine.",
    );
    expect(choice.hint).toMatch(/Upgrade it to Docker ≥ 25/);
    expect(choice.hint).toMatch(/apt-get remove docker\.io/);
    expect(choice.hint).toMatch(/unset MCP_PIPELINE_ENGINE to keep using Docker 24\.0\.9/);
  });

  it("starts an installed but stopped Docker ≥ 25 whatever was asked for", () => {
    expect(chooseEngine({ requested: "current", running: undefined, installed: "27.3.1" })).toEqual(
      { kind: "start-installed", version: "27.3.1" },
    );
  });

  it("starts an installed Docker 20.10 by default with a warning, and refuses it when the current engine was asked for", () => {
    expect(
      chooseEngine({ requested: "debian", running: undefined, installed: "20.10.24+dfsg1" }),
    ).toMatchObject({ kind: "start-installed", warning: expect.stringContaining("older than 25") });
    const refused = chooseEngine({
      requested: "current",
      running: undefined,
      installed: "20.10.24+dfsg1",
    });
    expect(refused).toMatchObject({
      kind: "refuse",
      message: expect.stringContaining("Docker 20.10.24+dfsg1 is installed here"),
    });
  });

  it("keeps an engine whose version it cannot read rather than refusing it", () => {
    expect(
      chooseEngine({ requested: "current", running: "master-dockerproject", installed: undefined }),
    ).toEqual({ kind: "keep", version: "master-dockerproject" });
  });

  it("keeps the oldest major it keeps in step with the pin", () => {
    expect(currentEngine.oldestKept).toBe(25);
    expect(dockerMajor(currentEngine.docker)).toBeGreaterThanOrEqual(currentEngine.oldestKept);
  });
});

describe("Docker versions", () => {
  it.each([
    ["20.10.24+dfsg1", 20],
    ["28.5.2", 28],
    ["v29.0.0-rc.1", 29],
    ["dev", undefined],
  ])("reads the major version of %s", (version, major) => {
    expect(dockerMajor(version)).toBe(major);
  });

  it("reads dockerd --version output of Debian's and Docker's builds", () => {
    expect(parseDockerdVersion("Docker version 20.10.24+dfsg1, build 5d6db84")).toBe(
      "20.10.24+dfsg1",
    );
    expect(parseDockerdVersion("Docker version 28.5.2, build 89c5e8f")).toBe("28.5.2");
    expect(parseDockerdVersion("dockerd: command not found")).toBeUndefined();
  });
});
