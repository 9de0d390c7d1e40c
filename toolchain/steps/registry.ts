import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { aptInstall } from "../apt.js";
import type { Step, StepContext } from "../context.js";
import { ToolchainError, ToolchainErrorCode } from "../errors.js";
import { run } from "../exec.js";
import type { ToolchainPaths } from "../paths.js";
import { AUTH_REGISTRY_ADDRESS, MIRROR_ADDRESS, REGISTRY_PORTS } from "../registry-config.js";

/** Credentials of the authenticated registry, as written to `registry-auth.json`. */
export const RegistryAuth = z.object({
  address: z.string(),
  username: z.string(),
  password: z.string(),
});
export type RegistryAuth = z.infer<typeof RegistryAuth>;

const USERNAME = "pipeline";

/** Reads the authenticated registry's credentials, or undefined before setup wrote them. */
export function readRegistryAuth(paths: ToolchainPaths): RegistryAuth | undefined {
  if (!existsSync(paths.registryAuthFile)) return undefined;
  return RegistryAuth.parse(JSON.parse(readFileSync(paths.registryAuthFile, "utf8")));
}

/** The HTTP status of a registry's `/v2/` endpoint on loopback, or undefined when nothing answers. */
export async function registryStatus(port: number): Promise<number | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v2/`, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.status;
  } catch {
    return undefined;
  }
}

function registryConfig(name: string, port: number, dataDir: string, htpasswd?: string): string {
  const auth = htpasswd ? `auth:\n  htpasswd:\n    realm: ${name}\n    path: ${htpasswd}\n` : "";
  return `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${dataDir}
  delete:
    enabled: true
http:
  addr: 0.0.0.0:${port}
  headers:
    X-Content-Type-Options: [nosniff]
${auth}`;
}

async function startRegistry(
  ctx: StepContext,
  name: string,
  port: number,
  htpasswd?: string,
): Promise<void> {
  if ((await registryStatus(port)) !== undefined) return;
  const dir = join(ctx.paths.registry, name);
  mkdirSync(join(dir, "data"), { recursive: true });
  const configFile = join(dir, "config.yml");
  writeFileSync(configFile, registryConfig(name, port, join(dir, "data"), htpasswd));
  const out = openSync(join(ctx.paths.logs, `registry-${name}.log`), "a");
  const child = spawn("docker-registry", ["serve", configFile], {
    detached: true,
    stdio: ["ignore", out, out],
    env: ctx.env,
  });
  child.unref();
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if ((await registryStatus(port)) !== undefined) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new ToolchainError(
    ToolchainErrorCode.NotReady,
    `The ${name} registry did not answer on port ${port}.`,
    {
      hint: `Read ${join(ctx.paths.logs, `registry-${name}.log`)}; is another process using port ${port}?`,
    },
  );
}

/**
 * Two registries from Debian's `docker-registry`: an anonymous pull mirror on
 * :5000 and an htpasswd-protected one on :5001 standing in for GHCR. The
 * password is generated once, kept in `registry-auth.json` (0600) and fed to
 * htpasswd on stdin so it never appears in a process list.
 */
export const registries: Step = {
  id: "registry",
  title: `Local registries (mirror ${MIRROR_ADDRESS}, auth ${AUTH_REGISTRY_ADDRESS})`,
  async isDone(ctx) {
    return (
      existsSync(ctx.paths.registryAuthFile) &&
      (await registryStatus(REGISTRY_PORTS.mirror)) === 200 &&
      (await registryStatus(REGISTRY_PORTS.auth)) === 401
    );
  },
  async run(ctx) {
    if (!existsSync("/usr/bin/docker-registry")) {
      if (process.getuid?.() !== 0) {
        throw new ToolchainError(
          ToolchainErrorCode.Unsupported,
          "docker-registry is not installed.",
          {
            hint: "Install Debian's `docker-registry` and `apache2-utils` packages (as root), then run `npm run setup` again.",
          },
        );
      }
      await aptInstall(ctx, ["docker-registry", "apache2-utils"]);
    }
    mkdirSync(ctx.paths.state, { recursive: true });
    let auth = readRegistryAuth(ctx.paths);
    if (!auth) {
      auth = {
        address: AUTH_REGISTRY_ADDRESS,
        username: USERNAME,
        password: randomBytes(18).toString("base64url"),
      };
      writeFileSync(ctx.paths.registryAuthFile, `${JSON.stringify(auth, null, 2)}\n`, {
        mode: 0o600,
      });
    }
    const htpasswd = join(ctx.paths.registry, "auth", "htpasswd");
    mkdirSync(join(ctx.paths.registry, "auth"), { recursive: true });
    if (!existsSync(htpasswd)) {
      await run("htpasswd", ["-c", "-i", "-B", htpasswd, auth.username], {
        input: auth.password,
        env: ctx.env,
      });
    }
    await startRegistry(ctx, "mirror", REGISTRY_PORTS.mirror);
    await startRegistry(ctx, "auth", REGISTRY_PORTS.auth, htpasswd);
    if ((await registryStatus(REGISTRY_PORTS.auth)) !== 401) {
      throw new ToolchainError(
        ToolchainErrorCode.NotReady,
        `Port ${REGISTRY_PORTS.auth} answers, but not as an authenticated registry.`,
        {
          hint: `Stop whatever listens on port ${REGISTRY_PORTS.auth} and run \`npm run setup\` again.`,
        },
      );
    }
  },
};
