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
  const line = await run("getent", ["group", DOCKER_GROUP], { env, timeoutMs: 10_000 }).catch(
    () => "",
  );
  const gid = Number(line.split(":")[2]);
  return line && Number.isInteger(gid) ? gid : undefined;
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

/** True when the socket is owned by group `gid` and its group may read and write it. */
export function socketHasGroup(gid: number, socket: string = DOCKER_SOCKET): boolean {
  try {
    const st = statSync(socket);
    return st.gid === gid && (st.mode & 0o060) === 0o060;
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
