import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createServer } from "node:net";

/** A process that listens on a TCP port. */
export interface PortOwner {
  pid: number;
  /** The process's command line, arguments joined by spaces. */
  command: string;
}

const LISTEN = "0A";

/** Socket inodes listening on `port` in this network namespace (IPv4 and IPv6), from /proc/net. */
export function listeningInodes(port: number, procRoot = "/proc"): string[] {
  const inodes: string[] = [];
  for (const table of ["tcp", "tcp6"]) {
    let text: string;
    try {
      text = readFileSync(`${procRoot}/net/${table}`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (!local || cols[3] !== LISTEN) continue;
      const hexPort = local.slice(local.lastIndexOf(":") + 1);
      if (Number.parseInt(hexPort, 16) === port && cols[9] && cols[9] !== "0") inodes.push(cols[9]);
    }
  }
  return inodes;
}

/**
 * Who listens on `port`: the process holding the listening socket, found by
 * matching its inode against every readable `/proc/<pid>/fd`. Returns
 * `undefined` when nothing listens, and `{ pid: 0 }` when something listens but
 * its process is not visible to this user (another user's, without root).
 */
export function portOwner(port: number, procRoot = "/proc"): PortOwner | undefined {
  const inodes = new Set(listeningInodes(port, procRoot).map((i) => `socket:[${i}]`));
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`${procRoot}/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`${procRoot}/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      if (inodes.has(target)) {
        let command = "";
        try {
          command = readFileSync(`${procRoot}/${entry}/cmdline`, "utf8")
            .split("\0")
            .filter(Boolean)
            .join(" ");
        } catch {
          // The process exited between the two reads.
        }
        return { pid: Number(entry), command };
      }
    }
  }
  return { pid: 0, command: "" };
}

/** A human description of a port's owner for messages. */
export function describeOwner(owner: PortOwner): string {
  if (owner.pid === 0) return "a process this user cannot see (run `sudo ss -ltnp` to name it)";
  return `pid ${owner.pid} (${owner.command || "command line unreadable"})`;
}

/** True when nothing accepts a bind on 0.0.0.0:`port` right now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "0.0.0.0", exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/** The first free port from `from` upward, skipping `avoid`; undefined when none is within `span`. */
export async function nextFreePort(
  from: number,
  avoid: number[],
  span = 200,
): Promise<number | undefined> {
  for (let port = from; port < Math.min(from + span, 65536); port++) {
    if (avoid.includes(port)) continue;
    // Something listening on one address only (e.g. 172.17.0.1) counts as taken too.
    if (listeningInodes(port).length === 0 && (await portIsFree(port))) return port;
  }
  return undefined;
}
