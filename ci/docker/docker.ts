import { run } from "../../toolchain/exec.js";

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
  Size: number;
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

/** Starts a detached container; returns its id. `env` values never appear in argv. */
export async function runDetached(
  image: string,
  env: Readonly<Record<string, string>>,
  extra: readonly string[] = [],
): Promise<string> {
  const envArgs = Object.keys(env).flatMap((k) => ["-e", k]);
  return (await docker(["run", "-d", ...envArgs, ...extra, image], { env })).trim();
}

export async function removeContainer(id: string): Promise<void> {
  await tryDocker(["rm", "-f", "-v", id]);
}
