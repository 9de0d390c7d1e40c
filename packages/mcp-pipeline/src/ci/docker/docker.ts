import { createInterface } from "node:readline";
import { execa } from "execa";
import { run } from "../../host/exec.js";

/**
 * Runs the Docker CLI and returns its stdout; throws a CommandError (with the
 * output's tail) when it fails. `env` adds variables to the CLI's environment —
 * the way values reach `docker run -e NAME` without ever being in argv.
 */
export async function docker(
  args: readonly string[],
  opts: { env?: Readonly<Record<string, string | undefined>>; input?: string; cwd?: string } = {},
): Promise<string> {
  return run("docker", args, {
    ...(opts.env ? { env: { ...opts.env } } : {}),
    input: opts.input,
    cwd: opts.cwd,
  });
}

/** Like `docker`, but resolves to undefined instead of throwing. */
export async function tryDocker(args: readonly string[]): Promise<string | undefined> {
  try {
    return await docker(args);
  } catch {
    return undefined;
  }
}

export interface ImageInspect {
  Id: string;
  // No `Size`: the containerd store reports the compressed content there (image-facts.ts).
  Config: {
    User?: string;
    Env?: string[];
    Healthcheck?: {
      Test?: string[];
      Interval?: number;
      Timeout?: number;
      StartPeriod?: number;
      StartInterval?: number;
      Retries?: number;
    };
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, object>;
  };
  RootFS?: { Layers?: string[] };
}

export async function inspectImage(ref: string): Promise<ImageInspect> {
  const [info] = JSON.parse(await docker(["image", "inspect", ref])) as ImageInspect[];
  if (!info) throw new Error(`docker image inspect ${ref} returned nothing`);
  return info;
}

/**
 * Starts a detached container; returns its id. `env` values never appear in argv. A container
 * that cannot start (no such user, no such entrypoint) is removed before the error is thrown.
 */
export async function runDetached(
  image: string,
  env: Readonly<Record<string, string>>,
  extra: readonly string[] = [],
): Promise<string> {
  const envArgs = Object.keys(env).flatMap((k) => ["-e", k]);
  const id = (await docker(["create", ...envArgs, ...extra, image], { env })).trim();
  try {
    await docker(["start", id]);
  } catch (err) {
    await removeContainer(id);
    throw err;
  }
  return id;
}

/** Creates a container without starting it; returns its id. `env` values never appear in argv. */
export async function createContainer(
  image: string,
  env: Readonly<Record<string, string>>,
  extra: readonly string[] = [],
): Promise<string> {
  const envArgs = Object.keys(env).flatMap((k) => ["-e", k]);
  return (await docker(["create", ...envArgs, ...extra, image], { env })).trim();
}

/**
 * Starts a created container and resolves with the first of its events that
 * `decide` turns into a verdict (Docker's event stream, e.g. `health_status:
 * healthy`, `die`), or undefined after `timeoutMs`. Nothing is polled.
 */
export async function startAndWatch<T>(
  id: string,
  decide: (status: string) => T | undefined,
  timeoutMs: number,
): Promise<T | undefined> {
  // `--since` replays what happened between subscribing and starting, so no event is missed.
  const since = String(Math.floor(Date.now() / 1000) - 5);
  const events = execa(
    "docker",
    ["events", "--since", since, "--filter", `container=${id}`, "--format", "{{.Status}}"],
    { buffer: false, reject: false },
  );
  try {
    const verdict = new Promise<T | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      createInterface({ input: events.stdout }).on("line", (line) => {
        const decided = decide(line.trim());
        if (decided !== undefined) {
          clearTimeout(timer);
          resolve(decided);
        }
      });
      events.once("exit", () => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });
    await docker(["start", id]);
    return await verdict;
  } finally {
    events.kill();
  }
}

export async function removeContainer(id: string): Promise<void> {
  await tryDocker(["rm", "-f", "-v", id]);
}
