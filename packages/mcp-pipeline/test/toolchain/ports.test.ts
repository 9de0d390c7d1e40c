import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeOwner, nextFreePort, portIsFree, portOwner } from "../../src/toolchain/ports.js";
import { decideForeignPort } from "../../src/toolchain/steps/registry.js";

describe("portOwner", () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer();
    await new Promise<void>((r) => server.listen(0, "0.0.0.0", r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("finds the process that listens on a port through /proc", () => {
    const owner = portOwner(port);
    expect(owner?.pid).toBe(process.pid);
    expect(owner?.command).toContain("node");
    expect(describeOwner(owner ?? { pid: 0, command: "" })).toMatch(`pid ${process.pid} (`);
  });

  it("says nobody listens on a free port", async () => {
    const free = await nextFreePort(port + 1, []);
    expect(free).toBeDefined();
    expect(portOwner(free ?? 0)).toBeUndefined();
  });

  it("sees a taken port as not free and skips it when looking for one", async () => {
    expect(await portIsFree(port)).toBe(false);
    const next = await nextFreePort(port, []);
    expect(next).not.toBe(port);
  });
});

describe("decideForeignPort", () => {
  const packaged = {
    pid: 42,
    command: "/usr/bin/docker-registry serve /etc/docker/registry/config.yml",
  };
  const other = { pid: 7, command: "python3 -m http.server 5000" };

  it("stops the packaged registry service when setup installed the package", () => {
    expect(
      decideForeignPort({
        name: "mirror",
        port: 5000,
        owner: packaged,
        explicit: false,
        weInstalledPackage: true,
      }),
    ).toEqual({ action: "stop-packaged-service" });
  });

  it("moves to another port when the default is taken by something else", () => {
    expect(
      decideForeignPort({
        name: "mirror",
        port: 5000,
        owner: packaged,
        explicit: false,
        weInstalledPackage: false,
      }),
    ).toEqual({ action: "relocate" });
  });

  it("fails on a port the user asked for, naming the process, the variable and the fixes", () => {
    const decision = decideForeignPort({
      name: "auth",
      port: 15001,
      owner: other,
      explicit: true,
      weInstalledPackage: false,
    });
    expect(decision.action).toBe("fail");
    if (decision.action !== "fail") return;
    expect(decision.message).toBe(
      "Port 15001 (MCP_PIPELINE_AUTH_PORT) is taken by pid 7 (python3 -m http.server 5000), not by this toolchain's auth registry.",
    );
    expect(decision.hint).toMatch(/stop pid 7/);
    expect(decision.hint).toMatch(/unset MCP_PIPELINE_AUTH_PORT/);
  });

  it("names the packaged service and how to stop it when it holds a port the user asked for", () => {
    const decision = decideForeignPort({
      name: "mirror",
      port: 5000,
      owner: packaged,
      explicit: true,
      weInstalledPackage: false,
    });
    expect(decision.action === "fail" && decision.hint).toMatch(
      /sudo systemctl disable --now docker-registry/,
    );
  });
});
