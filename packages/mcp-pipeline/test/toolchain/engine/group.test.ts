import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  dockerGroupEntry,
  dockerGroupOrWarn,
  socketHasGroup,
} from "../../../src/toolchain/engine/group.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "docker-group-test-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/**
 * A machine's `getent` and `groupadd` (the far edge: the machine's own groups are never touched).
 * `getent group docker` answers once `group` exists; `groupadd` makes it, or fails with `refuse`.
 */
function machine(opts: { hasGroup: boolean; refuse?: string }): NodeJS.ProcessEnv {
  const bin = join(root, "bin");
  mkdirSync(bin, { recursive: true });
  const group = join(root, "group");
  if (opts.hasGroup) writeFileSync(group, "docker:x:995:\n");
  const tools = {
    getent: `#!/bin/sh\n[ "$1 $2" = "group docker" ] && [ -f ${group} ] && exec cat ${group}\nexit 2\n`,
    groupadd: opts.refuse
      ? `#!/bin/sh\necho "${opts.refuse}" >&2\nexit 10\n`
      : `#!/bin/sh\n[ "$1 $2" = "--system docker" ] || exit 9\necho docker:x:996: > ${group}\n`,
  };
  for (const [name, script] of Object.entries(tools)) {
    writeFileSync(join(bin, name), script);
    chmodSync(join(bin, name), 0o755);
  }
  return { PATH: `${bin}:/usr/bin:/bin` };
}

describe("the docker group setup makes for the engine", () => {
  it("keeps the group a machine has", async () => {
    const warnings: string[] = [];
    const group = await dockerGroupOrWarn(machine({ hasGroup: true }), (w) => warnings.push(w));
    expect(group).toEqual({ gid: 995, created: false });
    expect(warnings).toEqual([]);
  });

  it("creates it as a system group where there is none", async () => {
    const warnings: string[] = [];
    const group = await dockerGroupOrWarn(machine({ hasGroup: false }), (w) => warnings.push(w));
    expect(group).toEqual({ gid: 996, created: true });
    expect(warnings).toEqual([]);
  });

  it("warns, naming why and what to do, when the group cannot be made (the engine still serves root)", async () => {
    const warnings: string[] = [];
    const env = machine({ hasGroup: false, refuse: "groupadd: cannot lock /etc/group" });
    expect(await dockerGroupOrWarn(env, (w) => warnings.push(w))).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^could not create the docker group \(.*cannot lock \/etc\/group/s);
    expect(warnings[0]).toMatch(
      /only root reaches Docker until it exists \(`groupadd --system docker`, then run setup again\)$/,
    );
  });
});

describe("the docker group as the machine lists it", () => {
  it("gives its id and members, none for an empty list, and nothing without the group", async () => {
    const env = machine({ hasGroup: true });
    expect(await dockerGroupEntry(env)).toEqual({ gid: 995, members: [] });
    writeFileSync(join(root, "group"), "docker:x:995:runner,alice\n");
    expect(await dockerGroupEntry(env)).toEqual({ gid: 995, members: ["runner", "alice"] });
    rmSync(join(root, "group"));
    expect(await dockerGroupEntry(env)).toBeUndefined();
  });
});

describe("whether the engine's socket belongs to the group", () => {
  it("is true for the group's own read-write socket, false for another group or without group write", () => {
    const socket = join(root, "docker.sock");
    writeFileSync(socket, "");
    const gid = statSync(socket).gid;
    chmodSync(socket, 0o660);
    expect(socketHasGroup(gid, socket)).toBe(true);
    expect(socketHasGroup(gid + 1, socket)).toBe(false);
    chmodSync(socket, 0o600);
    expect(socketHasGroup(gid, socket)).toBe(false);
    expect(socketHasGroup(gid, join(root, "absent.sock"))).toBe(false);
  });
});
