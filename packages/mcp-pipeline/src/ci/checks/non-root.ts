import { execa } from "execa";
import { docker, inspectImage, removeContainer, runDetached, tryDocker } from "../docker/docker.js";
import type { Check, CheckContext, CheckOutcome } from "./check.js";

/** Resolves an image config `User` (`1000`, `1000:1000`, `mcpuser`, `mcpuser:grp`, empty) to a UID. */
export function resolveUid(
  user: string | undefined,
  passwd: string | undefined,
): number | undefined {
  const name = (user ?? "").split(":")[0] ?? "";
  if (name === "") return 0;
  if (/^\d+$/.test(name)) return Number(name);
  const entry = passwd?.split("\n").find((l) => l.split(":")[0] === name);
  const uid = entry?.split(":")[2];
  return uid !== undefined && /^\d+$/.test(uid) ? Number(uid) : undefined;
}

async function passwdOf(image: string): Promise<string | undefined> {
  const id = (await docker(["create", image])).trim();
  try {
    // `docker cp … -` streams a tar archive; unpack the one file to stdout.
    const res = await execa("docker", ["cp", `${id}:/etc/passwd`, "-"]).pipe("tar", ["-xO"]);
    return String(res.stdout);
  } catch {
    return undefined;
  } finally {
    await removeContainer(id);
  }
}

/** A process's user ids: real, effective and saved. Any of them 0 means the process can act as root. */
export interface ProcessUids {
  real: number;
  effective: number;
  saved: number;
}

/** Whether a process with these ids runs as root, or can make itself root again. */
export function runsAsRoot(uids: ProcessUids): boolean {
  return uids.real === 0 || uids.effective === 0 || uids.saved === 0;
}

/**
 * The user ids of a running container's PID 1, or undefined when it is not running. The daemon
 * reads them with `ps` on its own host, so nothing is needed inside the image and a remote daemon
 * works too. The effective and saved ids count: a setuid-root entrypoint started as UID 1000 has
 * real UID 1000 but runs as root.
 */
export async function pid1Uids(containerId: string): Promise<ProcessUids | undefined> {
  const pid = Number((await docker(["inspect", "--format", "{{.State.Pid}}", containerId])).trim());
  // A stopped container has no PID 1, and `docker top` refuses it.
  const top = pid > 0 ? await tryDocker(["top", containerId, "-o", "pid,ruid,euid,suid"]) : "";
  const row = (top ?? "")
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/).map(Number))
    .find((columns) => columns[0] === pid);
  const [, real, effective, saved] = row ?? [];
  if (real === undefined || effective === undefined || saved === undefined) return undefined;
  return { real, effective, saved };
}

/**
 * `non-root`: the image config's user resolves to a non-zero UID, and a
 * started container's PID 1 really runs as a non-zero UID.
 */
export const nonRoot: Check = {
  id: "non-root",
  perPlatform: true,
  cacheKey: async (ctx) => ({ env: Object.keys(ctx.runEnv).sort() }),
  run: (ctx) => checkNonRoot(ctx.image, ctx.runEnv, ctx.runnable),
};

async function checkNonRoot(
  image: string,
  runEnv: Readonly<Record<string, string>>,
  runnable: CheckContext["runnable"],
): Promise<CheckOutcome> {
  const info = await inspectImage(image);
  const user = info.Config.User ?? "";
  const configUid = resolveUid(user, /^\d*(:\d*)?$/.test(user) ? undefined : await passwdOf(image));
  const details = [`image config USER: ${user === "" ? "(unset, so root)" : user}`];
  if (configUid === undefined) {
    return {
      status: "failed",
      summary: `USER ${user} does not resolve to a UID in the image's /etc/passwd`,
      details: [
        ...details,
        "Use a numeric USER (e.g. USER 1000:1000) so runtimes can verify it without /etc/passwd.",
      ],
    };
  }
  details.push(`configured UID: ${configUid}`);
  if (configUid === 0) {
    return {
      status: "failed",
      summary: "the image runs as root (UID 0)",
      details: [
        ...details,
        "Add a non-root user to the runtime stage and set it with a numeric USER, e.g. `USER 1000:1000`.",
      ],
    };
  }
  if (!runnable.ok) {
    return {
      status: "passed",
      summary: `configured UID ${configUid} (PID 1 not observed: ${runnable.reason})`,
      details: [...details, `A container of this platform cannot run here: ${runnable.reason}.`],
    };
  }
  const id = await runDetached(image, runEnv);
  try {
    const uids = await pid1Uids(id);
    if (uids === undefined) {
      const exitCode = (await docker(["inspect", "--format", "{{.State.ExitCode}}", id])).trim();
      const logs = await docker(["logs", "--tail", "20", id]).catch(() => "");
      return {
        status: "failed",
        summary: `the container did not stay up long enough to read its UID (it exited with code ${exitCode})`,
        details: [...details, "container logs:", ...logs.split("\n")],
      };
    }
    details.push(
      `running PID 1 UIDs: real ${uids.real}, effective ${uids.effective}, saved ${uids.saved}`,
    );
    if (runsAsRoot(uids)) {
      return {
        status: "failed",
        summary: `the container's process runs as root (real UID ${uids.real}, effective UID ${uids.effective})`,
        details: [
          ...details,
          "The entrypoint gains root: remove setuid-root binaries (chmod u-s) and gosu/su-exec style user changes.",
        ],
      };
    }
    return { status: "passed", summary: `runs as UID ${uids.real} (configured ${user})`, details };
  } finally {
    await removeContainer(id);
  }
}
