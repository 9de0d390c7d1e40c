import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { execa } from "execa";

/** The user GitHub-hosted runners run jobs as. */
export const RUNNER_USER = "runner";
const SUDOERS = "/etc/sudoers.d/gh-sim-runner";

/** What the simulated runner is made of, so cleanup removes exactly what was added. */
export interface RunnerUser {
  name: string;
  uid: number;
  /** True when this run created the user (and so may remove it). */
  created: boolean;
}

async function idOf(name: string): Promise<number | undefined> {
  const res = await execa("id", ["-u", name], { reject: false });
  return res.exitCode === 0 ? Number(res.stdout.trim()) : undefined;
}

/**
 * The non-root `runner` user of an ubuntu-24.04 hosted runner: passwordless
 * sudo, in the `docker` group so it reaches the running engine through its
 * socket, as the runner image sets it up. Idempotent; needs root. Installs
 * `sudo` with apt when the machine lacks it (the runner image has it).
 */
export async function ensureRunnerUser(): Promise<RunnerUser> {
  if (process.getuid?.() !== 0)
    throw new Error("The GitHub simulation creates the runner user and must run as root.");
  if (!existsSync("/usr/bin/sudo")) {
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    await execa("apt-get", ["update", "-q"], { env });
    await execa("apt-get", ["install", "-y", "-q", "sudo"], { env });
  }
  let uid = await idOf(RUNNER_USER);
  const created = uid === undefined;
  if (created) {
    await execa("useradd", ["--create-home", "--shell", "/bin/bash", RUNNER_USER]);
    uid = await idOf(RUNNER_USER);
  }
  if ((await execa("getent", ["group", "docker"], { reject: false })).exitCode !== 0)
    throw new Error(
      "This machine has no docker group, so the runner user could not reach the engine as a hosted runner's user does: run `npm run setup` as root, which creates the group and gives the engine's socket to it.",
    );
  const groups = await execa("id", ["-nG", RUNNER_USER]);
  if (!groups.stdout.split(/\s+/).includes("docker"))
    await execa("usermod", ["-aG", "docker", RUNNER_USER]);
  const rule = `${RUNNER_USER} ALL=(ALL) NOPASSWD:ALL\n`;
  if (!existsSync(SUDOERS) || readFileSync(SUDOERS, "utf8") !== rule) {
    writeFileSync(SUDOERS, rule, { mode: 0o440 });
    await execa("visudo", ["-c", "-f", SUDOERS]);
  }
  return { name: RUNNER_USER, uid: uid ?? -1, created };
}

/** Removes the runner user and its sudo rule when this run created them. */
export async function removeRunnerUser(user: RunnerUser): Promise<void> {
  if (!user.created) return;
  await execa("userdel", ["--remove", user.name], { reject: false });
  await execa("rm", ["-f", SUDOERS], { reject: false });
}

/**
 * A Node.js release laid out as the runner's tool cache lays it out
 * (`<cache>/node/<version>/x64`), copied from `nodeBinDir/..`, readable by
 * everyone. What setup-node's stand-in puts on PATH.
 */
export async function seedToolCache(toolCache: string, nodeBinDir: string): Promise<string> {
  const release = dirname(nodeBinDir);
  const match = /^v(\d+\.\d+\.\d+)-linux-x64$/.exec(basename(release));
  if (!match?.[1])
    throw new Error(
      `${release} is not an official Node.js release directory (v<version>-linux-x64): run through \`npm run\`, which brings one`,
    );
  const version = match[1];
  const dest = join(toolCache, "node", version, "x64");
  if (!existsSync(join(dest, "bin", "node"))) {
    mkdirSync(dirname(dest), { recursive: true });
    await execa("cp", ["-a", release, dest]);
    await execa("chmod", ["-R", "a+rX", join(toolCache, "node")]);
  }
  return dest;
}
