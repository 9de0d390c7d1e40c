import { readFileSync } from "node:fs";
import { execa } from "execa";
import { docker, inspectImage, removeContainer, runDetached } from "../docker/docker.js";
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

/** The UID of a running container's PID 1, read from the host's /proc (no tools needed inside the image). */
async function uidOfPid1(id: string): Promise<number | undefined> {
  const pid = Number((await docker(["inspect", "--format", "{{.State.Pid}}", id])).trim());
  if (pid > 0) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
      if (uid !== undefined) return Number(uid);
    } catch {
      // The daemon is remote (or the process just exited): ask it instead.
    }
  }
  const top = await docker(["top", id, "-o", "pid,uid"]).catch(() => "");
  const row = top.split("\n")[1]?.trim().split(/\s+/);
  return row?.[1] !== undefined ? Number(row[1]) : undefined;
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
    let uid: number | undefined;
    for (let i = 0; i < 20 && uid === undefined; i++) {
      uid = await uidOfPid1(id);
      if (uid === undefined) await new Promise((r) => setTimeout(r, 250));
    }
    details.push(`running PID 1 UID: ${uid ?? "unknown"}`);
    if (uid === undefined) {
      const logs = await docker(["logs", "--tail", "20", id]).catch(() => "");
      return {
        status: "failed",
        summary: "the container did not stay up long enough to read its UID",
        details: [...details, ...logs.split("\n")],
      };
    }
    if (uid === 0) {
      return {
        status: "failed",
        summary: "the container's process runs as root",
        details: [
          ...details,
          "The entrypoint switches back to root; remove gosu/su-exec style user changes.",
        ],
      };
    }
    return { status: "passed", summary: `runs as UID ${uid} (configured ${user})`, details };
  } finally {
    await removeContainer(id);
  }
}
