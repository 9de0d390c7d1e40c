import { chmodSync, chownSync, statSync } from "node:fs";
import { run } from "../../host/exec.js";

/**
 * The group whose members reach the engine through its socket: dockerd's default `--group`.
 * Docker's and Debian's packages create it; an engine setup installs from binaries needs it made.
 */
export const DOCKER_GROUP = "docker";

/** Where a dockerd started with its default `-H` listens (setup starts it so). */
export const DOCKER_SOCKET = "/var/run/docker.sock";

/** The id of the `docker` group, if the machine has one (through NSS, as dockerd looks it up). */
export async function dockerGroupId(env: NodeJS.ProcessEnv): Promise<number | undefined> {
  return (await dockerGroupEntry(env))?.gid;
}

/**
 * Creates the `docker` system group where the machine has none. Needs root. Returns its id and
 * whether this call made it.
 */
export async function ensureDockerGroup(
  env: NodeJS.ProcessEnv,
): Promise<{ gid: number; created: boolean }> {
  const known = await dockerGroupId(env);
  if (known !== undefined) return { gid: known, created: false };
  await run("groupadd", ["--system", DOCKER_GROUP], { env, timeoutMs: 20_000 });
  const gid = await dockerGroupId(env);
  if (gid === undefined) throw new Error(`groupadd made no ${DOCKER_GROUP} group`);
  return { gid, created: true };
}

/** True when a file's group is `gid` and that group may read and write it. */
function givenToGroup(stat: { gid: number; mode: number }, gid: number): boolean {
  return stat.gid === gid && (stat.mode & 0o060) === 0o060;
}

/** True when the socket is owned by group `gid` and its group may read and write it. */
export function socketHasGroup(gid: number, socket: string = DOCKER_SOCKET): boolean {
  try {
    return givenToGroup(statSync(socket), gid);
  } catch {
    return false;
  }
}

/** What dockerd does to its socket when it starts with `--group docker`: root:docker, 660. */
export function giveSocketToGroup(gid: number, socket: string = DOCKER_SOCKET): void {
  chownSync(socket, 0, gid);
  chmodSync(socket, 0o660);
}

/**
 * The `docker` group, created where missing. Without it the engine still serves root, so a
 * failure (a machine whose groups are not in /etc/group, say) is a warning, not the end of setup.
 */
export async function dockerGroupOrWarn(
  env: NodeJS.ProcessEnv,
  warn: (text: string) => void,
): Promise<{ gid: number; created: boolean } | undefined> {
  try {
    return await ensureDockerGroup(env);
  } catch (e) {
    warn(
      `could not create the ${DOCKER_GROUP} group (${e instanceof Error ? e.message : String(e)}): only root reaches Docker until it exists (\`groupadd --system ${DOCKER_GROUP}\`, then run setup again)`,
    );
    return undefined;
  }
}

/** What decides whether this process may use the engine's socket. */
export interface SocketFacts {
  /** The socket's path, or undefined when DOCKER_HOST names no local socket. */
  socket: string | undefined;
  /** DOCKER_HOST as given (for the message when it is not a local socket). */
  host?: string;
  /** The socket's owner, group and mode; undefined when there is no such file. */
  stat?: { uid: number; gid: number; mode: number };
  uid: number;
  /** The groups this process has now (a group joined since login is not among them). */
  groups: number[];
  /** The `docker` group as the machine lists it, if it has one. */
  dockerGroup?: { gid: number; members: string[] };
  user: string;
}

/**
 * `doctor`'s docker-group line: whether this process may use the socket, and if not, what to
 * change. Root always may; its line still says whether others can (the group, the socket's mode).
 */
export function socketAccess(f: SocketFacts): { ok: boolean; version: null; detail: string } {
  const line = (ok: boolean, detail: string) => ({ ok, version: null, detail });
  if (f.socket === undefined) return line(true, `DOCKER_HOST is ${f.host}: no local socket`);
  if (!f.stat) return line(true, `no socket at ${f.socket} (the docker line says why)`);
  const { stat, dockerGroup } = f;
  const forGroup =
    dockerGroup && givenToGroup(stat, dockerGroup.gid)
      ? `${f.socket} is root:${DOCKER_GROUP} ${(stat.mode & 0o777).toString(8)}`
      : undefined;
  const setup = `as root, run \`mcp-pipeline setup\`, which gives ${f.socket} to the ${DOCKER_GROUP} group`;
  if (f.uid === 0) {
    if (forGroup) return line(true, `${forGroup}: root and the group's members reach the engine`);
    if (!dockerGroup)
      return line(
        true,
        `no ${DOCKER_GROUP} group: only root reaches the engine; run \`mcp-pipeline setup\`, which creates it`,
      );
    return line(
      true,
      `only root reaches the engine (${f.socket} is not the ${DOCKER_GROUP} group's); ${setup}`,
    );
  }
  const mine = stat.uid === f.uid && (stat.mode & 0o600) === 0o600;
  const viaGroup = f.groups.includes(stat.gid) && givenToGroup(stat, stat.gid);
  const viaOther = (stat.mode & 0o006) === 0o006;
  if (mine) return line(true, `${f.socket} is yours (a rootless engine)`);
  if (viaGroup) return line(true, forGroup ? `${forGroup}; you are a member` : "ok");
  if (viaOther) return line(true, `${f.socket} is open to every user`);
  if (!forGroup) return line(false, `${f.user} may not use ${f.socket}; ${setup}`);
  if (dockerGroup?.members.includes(f.user))
    return line(
      false,
      `${f.user} joined the ${DOCKER_GROUP} group after this login began; log in again (or run \`newgrp ${DOCKER_GROUP}\`)`,
    );
  return line(
    false,
    `${f.user} is not in the ${DOCKER_GROUP} group; \`sudo usermod -aG ${DOCKER_GROUP} ${f.user}\`, then log in again`,
  );
}

/** The `docker` group's id and listed members, if the machine has one (through NSS, as dockerd looks it up). */
export async function dockerGroupEntry(
  env: NodeJS.ProcessEnv,
): Promise<{ gid: number; members: string[] } | undefined> {
  const line = await run("getent", ["group", DOCKER_GROUP], { env, timeoutMs: 10_000 }).catch(
    () => "",
  );
  const [, , gidText, members = ""] = line.trim().split(":");
  const gid = Number(gidText);
  if (!line || !Number.isInteger(gid)) return undefined;
  return { gid, members: members.split(",").filter(Boolean) };
}

/** The local socket DOCKER_HOST names (the default one when unset); undefined for tcp:// and ssh://. */
export function localSocket(host: string | undefined): string | undefined {
  if (!host) return DOCKER_SOCKET;
  return host.startsWith("unix://") ? host.slice("unix://".length) : undefined;
}
