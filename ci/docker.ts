import { execa } from "execa";

/** Runs the Docker CLI; throws with the command's output on failure. */
export async function docker(
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {},
): Promise<string> {
  const res = await execa("docker", args, {
    env: opts.env,
    input: opts.input,
    cwd: opts.cwd,
    reject: false,
    all: true,
  });
  if (res.exitCode !== 0) {
    const error = new Error(
      `docker ${args.join(" ")} exited with ${res.exitCode}: ${String(res.all ?? "")
        .trim()
        .split("\n")
        .slice(-10)
        .join("\n")}`,
    );
    throw Object.assign(error, { stderr: String(res.stderr ?? "") });
  }
  return String(res.stdout ?? "");
}

/** Like `docker`, but resolves to undefined instead of throwing. */
export async function tryDocker(
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv } = {},
): Promise<string | undefined> {
  try {
    return await docker(args, opts);
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
    Healthcheck?: { Test?: string[] };
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

/** Starts a detached container; returns its id. */
export async function runDetached(
  image: string,
  env: Record<string, string>,
  extra: string[] = [],
): Promise<string> {
  const envArgs = Object.keys(env).flatMap((k) => ["-e", k]);
  // Values travel in the environment of the docker CLI, never in its argv.
  const out = await docker(["run", "-d", ...envArgs, ...extra, image], {
    env: { ...process.env, ...env },
  });
  return out.trim();
}

export async function removeContainer(id: string): Promise<void> {
  await tryDocker(["rm", "-f", "-v", id]);
}
