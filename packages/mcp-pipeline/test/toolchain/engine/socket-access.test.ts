import { describe, expect, it } from "vitest";
import {
  localSocket,
  type SocketFacts,
  socketAccess,
} from "../../../src/toolchain/engine/group.js";

const SOCKET = "/var/run/docker.sock";
const DOCKER = { gid: 999, members: ["runner"] };
/** What setup leaves: root:docker 660. */
const SET_UP = { uid: 0, gid: 999, mode: 0o140660 };
const runner = (over: Partial<SocketFacts> = {}): SocketFacts => ({
  socket: SOCKET,
  stat: SET_UP,
  uid: 1001,
  groups: [1001, 999],
  dockerGroup: DOCKER,
  user: "runner",
  ...over,
});

describe("doctor's docker-group line", () => {
  it("passes a member of the docker group on a root:docker 660 socket (the control)", () => {
    expect(socketAccess(runner())).toEqual({
      ok: true,
      version: null,
      detail: "/var/run/docker.sock is root:docker 660; you are a member",
    });
  });

  it("fails a user outside the group, naming the usermod that fixes it", () => {
    const r = socketAccess(
      runner({ user: "alice", groups: [1002], dockerGroup: { gid: 999, members: [] } }),
    );
    expect(r.ok).toBe(false);
    expect(r.detail).toBe(
      "alice is not in the docker group; `sudo usermod -aG docker alice`, then log in again",
    );
  });

  it("tells a user added to the group since logging in to log in again", () => {
    const r = socketAccess(runner({ groups: [1001] }));
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(
      /^runner joined the docker group after this login began; log in again/,
    );
  });

  it("fails a user when the socket is root's alone, pointing at setup", () => {
    const r = socketAccess(runner({ stat: { uid: 0, gid: 0, mode: 0o140660 } }));
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(
      /runner may not use \/var\/run\/docker.sock; as root, run `mcp-pipeline setup`/,
    );
    // The group owns it but may not write to it: the same.
    expect(socketAccess(runner({ stat: { uid: 0, gid: 999, mode: 0o140600 } })).ok).toBe(false);
  });

  it("passes root, saying whether others can reach the engine too", () => {
    const root = { uid: 0, groups: [0], user: "root" };
    expect(socketAccess(runner(root)).detail).toBe(
      "/var/run/docker.sock is root:docker 660: root and the group's members reach the engine",
    );
    const noGroup = socketAccess(
      runner({ ...root, dockerGroup: undefined, stat: { uid: 0, gid: 0, mode: 0o140660 } }),
    );
    expect(noGroup.ok).toBe(true);
    expect(noGroup.detail).toMatch(
      /^no docker group: only root reaches the engine; run `mcp-pipeline setup`/,
    );
    const notGiven = socketAccess(runner({ ...root, stat: { uid: 0, gid: 0, mode: 0o140660 } }));
    expect(notGiven.ok).toBe(true);
    expect(notGiven.detail).toMatch(
      /^only root reaches the engine \(.* is not the docker group's\)/,
    );
  });

  it("passes a rootless engine's owner and a socket open to all", () => {
    expect(
      socketAccess(runner({ stat: { uid: 1001, gid: 1001, mode: 0o140600 }, groups: [1001] }))
        .detail,
    ).toBe("/var/run/docker.sock is yours (a rootless engine)");
    expect(
      socketAccess(runner({ stat: { uid: 0, gid: 0, mode: 0o140666 }, groups: [1001] })).ok,
    ).toBe(true);
  });

  it("leaves a missing socket to the docker line, and a remote DOCKER_HOST alone", () => {
    expect(socketAccess(runner({ stat: undefined }))).toMatchObject({ ok: true });
    expect(localSocket(undefined)).toBe(SOCKET);
    expect(localSocket("unix:///run/user/1001/docker.sock")).toBe("/run/user/1001/docker.sock");
    expect(localSocket("tcp://10.0.0.2:2376")).toBeUndefined();
    expect(socketAccess(runner({ socket: undefined, host: "tcp://10.0.0.2:2376" })).detail).toBe(
      "DOCKER_HOST is tcp://10.0.0.2:2376: no local socket",
    );
  });
});
