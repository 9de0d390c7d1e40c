import { describe, expect, it } from "vitest";
import { imageStoreOf } from "../../../src/host/image-store.js";
import {
  chooseEngine,
  dockerMajor,
  parseDockerdVersion,
  supportedEngine,
} from "../../../src/toolchain/engine/choice.js";
import { currentEngine } from "../../../src/toolchain/versions.js";
import { OLDEST_ENGINE } from "./other-engines.js";

const none = { running: undefined, installed: undefined, installedBySetup: false };

describe("chooseEngine", () => {
  it("installs the current engine where no engine is", () => {
    expect(chooseEngine(none)).toEqual({ kind: "install-current" });
  });

  it.each(["28.5.2", "29.1.0", "25.0.0"])(
    "keeps a running Docker %s (≥ 25), whoever installed it",
    (running) => {
      expect(chooseEngine({ ...none, running })).toEqual({ kind: "keep", version: running });
      expect(
        chooseEngine({ running, installed: "20.10.24+dfsg1", installedBySetup: true }),
      ).toEqual({ kind: "keep", version: running });
    },
  );

  it("refuses a running Docker 24 setup did not install, naming the version and what to do", () => {
    const choice = chooseEngine({ ...none, running: "24.0.9" });
    expect(choice.kind).toBe("refuse");
    if (choice.kind !== "refuse") return;
    expect(choice.message).toBe(
      "Docker 24.0.9 runs here; the pipeline needs Docker ≥ 25 (older engines are out of support and ignore HEALTHCHECK --start-interval), and setup does not replace an engine it did not install.",
    );
    expect(choice.hint).toMatch(/Upgrade it to Docker ≥ 25/);
    expect(choice.hint).toMatch(/apt-get remove docker\.io/);
    expect(choice.hint).toMatch(/installs Docker 28\.5\.2 into the toolchain cache/);
  });

  it("upgrades the Docker 20.10 an older setup installed, stopping it first when it runs", () => {
    expect(
      chooseEngine({
        running: "20.10.24+dfsg1",
        installed: "20.10.24+dfsg1",
        installedBySetup: true,
      }),
    ).toEqual({ kind: "upgrade", from: "20.10.24+dfsg1", stop: true });
    expect(
      chooseEngine({ running: undefined, installed: "20.10.24+dfsg1", installedBySetup: true }),
    ).toEqual({ kind: "upgrade", from: "20.10.24+dfsg1", stop: false });
  });

  it("starts an installed but stopped Docker ≥ 25", () => {
    expect(chooseEngine({ ...none, installed: "27.3.1" })).toEqual({
      kind: "start-installed",
      version: "27.3.1",
    });
  });

  it("refuses an installed Docker 20.10 that setup did not install", () => {
    expect(chooseEngine({ ...none, installed: "20.10.24+dfsg1" })).toMatchObject({
      kind: "refuse",
      message: expect.stringContaining("Docker 20.10.24+dfsg1 is installed here"),
    });
  });

  it("keeps an engine whose version it cannot read rather than refusing it", () => {
    expect(chooseEngine({ ...none, running: "master-dockerproject" })).toEqual({
      kind: "keep",
      version: "master-dockerproject",
    });
    expect(supportedEngine("master-dockerproject")).toBe(true);
    expect(supportedEngine("24.0.9")).toBe(false);
  });

  it("keeps the oldest major it keeps in step with the pin", () => {
    expect(currentEngine.oldestKept).toBe(25);
    expect(dockerMajor(currentEngine.docker)).toBeGreaterThanOrEqual(currentEngine.oldestKept);
    // The engine current-engine.e2e runs as the oldest supported is that major.
    expect(dockerMajor(OLDEST_ENGINE.version)).toBe(currentEngine.oldestKept);
    expect(supportedEngine(OLDEST_ENGINE.version)).toBe(true);
  });
});

describe("imageStoreOf", () => {
  it("reads the store from docker info's DriverStatus, as Docker 28 prints it under each", () => {
    // `docker info --format '{{json .DriverStatus}}'`, Docker 28.5.2, on this machine.
    expect(
      imageStoreOf([
        ["Backing Filesystem", "extfs"],
        ["Supports d_type", "true"],
        ["Using metacopy", "false"],
        ["Native Overlay Diff", "true"],
        ["userxattr", "false"],
      ]),
    ).toBe("classic");
    expect(imageStoreOf([["driver-type", "io.containerd.snapshotter.v1"]])).toBe("containerd");
    expect(imageStoreOf(null)).toBe("classic");
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
