import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import writeFileAtomic from "write-file-atomic";
import { stringify as stringifyYaml } from "yaml";
import { ToolchainError, ToolchainErrorCode } from "../../host/errors.js";
import { run, which } from "../../host/exec.js";
import { aptInstall } from "../apt.js";
import type { Step, StepContext } from "../context.js";
import { describeOwner, nextFreePort, type PortOwner, portOwner } from "../ports.js";
import { runAsRoot } from "../privilege.js";
import { REGISTRY_BRIDGE_HOST, REGISTRY_PORTS } from "../registry-config.js";
import type { ToolchainPaths } from "../settings.js";
import {
  type RegistriesState,
  readInstalledPackages,
  readRegistries,
  readRegistryAuth,
  writeRegistries,
} from "../state.js";
import { versions } from "../versions.js";

const USERNAME = "pipeline";

export type RegistryName = "mirror" | "auth";

/** What each registry answers on `/v2/` when it is ours and healthy. */
const EXPECTED_STATUS: Record<RegistryName, number> = { mirror: 200, auth: 401 };

const PORT_VARIABLE: Record<RegistryName, string> = {
  mirror: "MCP_PIPELINE_MIRROR_PORT",
  auth: "MCP_PIPELINE_AUTH_PORT",
};

/** The packaged service's command line (Debian and Ubuntu's docker-registry.service). */
const PACKAGED_SERVICE = "/usr/bin/docker-registry serve /etc/docker/registry/config.yml";

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

/** The registries this run needs: the mirror only air-gapped, the authenticated one only when asked. */
export function wantedRegistries(ctx: Pick<StepContext, "mode" | "needs">): RegistryName[] {
  const names: RegistryName[] = [];
  if (ctx.mode === "airgap") names.push("mirror");
  if (ctx.needs.authRegistry) names.push("auth");
  return names;
}

function configPath(paths: ToolchainPaths, name: RegistryName): string {
  return join(paths.registry, name, "config.yml");
}

/** True when `owner` is the registry this cache started for `name`. */
export function isOurRegistry(
  owner: PortOwner | undefined,
  paths: ToolchainPaths,
  name: RegistryName,
): boolean {
  return owner?.command.endsWith(`serve ${configPath(paths, name)}`) ?? false;
}

/** What to do about a port someone else holds. Pure, so every branch is unit-tested. */
export type PortDecision =
  | { action: "stop-packaged-service" }
  | { action: "relocate" }
  | { action: "fail"; message: string; hint: string };

export function decideForeignPort(input: {
  name: RegistryName;
  port: number;
  owner: PortOwner;
  /** The port came from MCP_PIPELINE_*_PORT: the user asked for exactly this one. */
  explicit: boolean;
  /** Setup installed the docker-registry package (so its service is ours to stop). */
  weInstalledPackage: boolean;
}): PortDecision {
  const packaged = input.owner.command === PACKAGED_SERVICE;
  if (packaged && input.weInstalledPackage) return { action: "stop-packaged-service" };
  if (!input.explicit) return { action: "relocate" };
  const variable = PORT_VARIABLE[input.name];
  const stop = packaged
    ? "stop the packaged registry service (`sudo systemctl disable --now docker-registry`)"
    : input.owner.pid > 0
      ? `stop pid ${input.owner.pid}`
      : "stop whatever listens there";
  return {
    action: "fail",
    message: `Port ${input.port} (${variable}) is taken by ${packaged ? "the packaged docker-registry service, " : ""}${describeOwner(input.owner)}, not by this toolchain's ${input.name} registry.`,
    hint: `Either ${stop}, or set ${variable} to a free port, or unset ${variable} so setup picks a free port itself; then run \`mcp-pipeline setup\` again.`,
  };
}

/** The distribution registry's config.yml, written with `yaml` so paths with any character stay valid. */
export function registryConfig(
  name: string,
  port: number,
  dataDir: string,
  htpasswd?: string,
): string {
  return stringifyYaml({
    version: 0.1,
    log: { level: "warn", accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: dataDir }, delete: { enabled: true } },
    http: { addr: `0.0.0.0:${port}`, headers: { "X-Content-Type-Options": ["nosniff"] } },
    ...(htpasswd ? { auth: { htpasswd: { realm: name, path: htpasswd } } } : {}),
  });
}

async function waitFor<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms: number) {
  const deadline = Date.now() + ms;
  let value = await probe();
  while (!ok(value) && Date.now() < deadline) {
    await sleep(200);
    value = await probe();
  }
  return value;
}

async function startRegistry(
  ctx: StepContext,
  name: RegistryName,
  port: number,
  htpasswd?: string,
): Promise<void> {
  const dir = join(ctx.paths.registry, name);
  mkdirSync(join(dir, "data"), { recursive: true });
  writeFileSync(
    configPath(ctx.paths, name),
    registryConfig(name, port, join(dir, "data"), htpasswd),
  );
  const log = join(ctx.paths.logs, `registry-${name}.log`);
  const out = openSync(log, "a");
  const child = spawn("docker-registry", ["serve", configPath(ctx.paths, name)], {
    detached: true,
    stdio: ["ignore", out, out],
    env: ctx.env,
  });
  child.unref();
  const status = await waitFor(
    () => registryStatus(port),
    (s) => s === EXPECTED_STATUS[name],
    15_000,
  );
  if (status !== EXPECTED_STATUS[name]) {
    const owner = portOwner(port);
    throw new ToolchainError(
      ToolchainErrorCode.NotReady,
      `The ${name} registry did not come up on port ${port} (it answers ${status ?? "nothing"}${owner && !isOurRegistry(owner, ctx.paths, name) ? `; the port is held by ${describeOwner(owner)}` : ""}).`,
      { hint: `Read ${log}.` },
    );
  }
}

/** Stops and disables the service Debian's docker-registry package starts on :5000. */
async function stopPackagedService(ctx: StepContext, port: number): Promise<void> {
  ctx.warn(
    "stopping and disabling the docker-registry service its package starts on :5000 (setup installed the package for its binary only)",
  );
  const why = "Stopping the packaged docker-registry service";
  if (existsSync("/run/systemd/system")) {
    await runAsRoot("systemctl", ["disable", "--now", "docker-registry"], {
      env: ctx.env,
      logFile: ctx.logFile,
      why,
    });
  } else {
    await runAsRoot("service", ["docker-registry", "stop"], {
      env: ctx.env,
      logFile: ctx.logFile,
      why,
    }).catch(() => undefined);
  }
  const owner = await waitFor(
    async () => portOwner(port),
    (o) => o?.command !== PACKAGED_SERVICE,
    15_000,
  );
  if (owner?.command === PACKAGED_SERVICE) {
    throw new ToolchainError(
      ToolchainErrorCode.PortTaken,
      `Port ${port} is still held by ${describeOwner(owner)} after stopping the docker-registry service.`,
      { hint: `Stop it (\`sudo kill ${owner.pid}\`) and run \`mcp-pipeline setup\` again.` },
    );
  }
}

/** Picks the port for `name`: ours again, the wanted one when free, or a free one when it is taken. */
async function resolvePort(
  ctx: StepContext,
  name: RegistryName,
  taken: number[],
): Promise<{ port: number; running: boolean }> {
  const explicit = name === "mirror" ? ctx.settings.mirrorPort : ctx.settings.authPort;
  const previous = readRegistries(ctx.paths)[name]?.port;
  // The token-auth registry the tests start owns its port.
  const recorded = previous === REGISTRY_PORTS.tokenAuth ? undefined : previous;
  const port = explicit ?? recorded ?? REGISTRY_PORTS[name];
  const owner = portOwner(port);
  if (!owner) return { port, running: false };
  if (isOurRegistry(owner, ctx.paths, name)) return { port, running: true };
  const decision = decideForeignPort({
    name,
    port,
    owner,
    explicit: explicit !== undefined,
    weInstalledPackage: readInstalledPackages(ctx.paths).includes(versions.registryPackage),
  });
  switch (decision.action) {
    case "stop-packaged-service":
      await stopPackagedService(ctx, port);
      return { port, running: false };
    case "fail":
      throw new ToolchainError(ToolchainErrorCode.PortTaken, decision.message, {
        hint: decision.hint,
      });
    case "relocate": {
      const from = Math.max(REGISTRY_PORTS.mirror, REGISTRY_PORTS.auth) + 1;
      const free = await nextFreePort(from, [...taken, ...Object.values(REGISTRY_PORTS)]);
      if (free === undefined) {
        throw new ToolchainError(
          ToolchainErrorCode.PortTaken,
          `Port ${port} is taken by ${describeOwner(owner)} and no free port was found from ${from} on.`,
          {
            hint: `Set ${PORT_VARIABLE[name]} to a free port and run \`mcp-pipeline setup\` again.`,
          },
        );
      }
      ctx.warn(
        `port ${port} is taken by ${describeOwner(owner)}; the ${name} registry uses port ${free} instead (recorded in ${join(ctx.paths.state, "registries.json")}; set ${PORT_VARIABLE[name]} to choose)`,
      );
      return { port: free, running: false };
    }
  }
}

/** True when every wanted registry is ours, on its recorded port, and healthy. */
async function registriesReady(ctx: StepContext): Promise<boolean> {
  const recorded = readRegistries(ctx.paths);
  for (const name of wantedRegistries(ctx)) {
    const endpoint = recorded[name];
    if (!endpoint) return false;
    const explicit = name === "mirror" ? ctx.settings.mirrorPort : ctx.settings.authPort;
    if (explicit !== undefined && explicit !== endpoint.port) return false;
    if (!isOurRegistry(portOwner(endpoint.port), ctx.paths, name)) return false;
    if ((await registryStatus(endpoint.port)) !== EXPECTED_STATUS[name]) return false;
  }
  if (ctx.needs.authRegistry) {
    const auth = readRegistryAuth(ctx.paths);
    if (!auth || auth.address !== recorded.auth?.address) return false;
  }
  return true;
}

async function ensureBinaries(ctx: StepContext): Promise<void> {
  const missing = [
    ...(which("docker-registry", ctx.env) ? [] : [versions.registryPackage]),
    ...(which("htpasswd", ctx.env) || !ctx.needs.authRegistry ? [] : ["apache2-utils"]),
  ];
  if (missing.length === 0) return;
  if (!existsSync("/usr/bin/apt-get")) {
    throw new ToolchainError(
      ToolchainErrorCode.Unsupported,
      `${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not installed.`,
      {
        hint: "Install the CNCF distribution registry (`docker-registry`) and htpasswd, then run `mcp-pipeline setup` again.",
      },
    );
  }
  await aptInstall(ctx, missing);
  // Installing the package starts its own service on :5000 (htpasswd, /etc/docker/registry)
  // under systemd or sysvinit; setup wanted the binary only.
  // It may still be starting, so it is stopped whether or not it listens yet.
  if (missing.includes(versions.registryPackage))
    await stopPackagedService(ctx, REGISTRY_PORTS.mirror);
}

/**
 * The local registries from the CNCF distribution registry (Debian's
 * `docker-registry`), only those this run uses: an anonymous pull mirror when
 * air-gapped, and an htpasswd-protected one standing in for GHCR for the tests
 * and for a pipeline that publishes locally. Ports default to 5000 and 5001; a
 * port held by another process moves to a free one (recorded in
 * `state/registries.json`) unless MCP_PIPELINE_*_PORT asks for it exactly. The
 * password is generated once, kept in `registry-auth.json` (0600) and fed to
 * htpasswd on stdin so it never appears in a process list.
 */
export const registries: Step = {
  id: "registry",
  title: "Local registries",
  isDone: registriesReady,
  async run(ctx) {
    const wanted = wantedRegistries(ctx);
    if (wanted.length === 0) return;
    await ensureBinaries(ctx);
    const state: RegistriesState = {};
    const taken: number[] = [];
    for (const name of wanted) {
      const { port, running } = await resolvePort(ctx, name, taken);
      taken.push(port);
      state[name] = { port, address: `${REGISTRY_BRIDGE_HOST}:${port}` };
      let htpasswd: string | undefined;
      if (name === "auth")
        htpasswd = await ensureCredentials(ctx, `${REGISTRY_BRIDGE_HOST}:${port}`);
      if (!running) await startRegistry(ctx, name, port, htpasswd);
      else if ((await registryStatus(port)) !== EXPECTED_STATUS[name]) {
        throw new ToolchainError(
          ToolchainErrorCode.NotReady,
          `This toolchain's ${name} registry runs on port ${port} but answers ${(await registryStatus(port)) ?? "nothing"} instead of ${EXPECTED_STATUS[name]}.`,
          {
            hint: `Read ${join(ctx.paths.logs, `registry-${name}.log`)}; stop it (\`kill ${portOwner(port)?.pid}\`) and run \`mcp-pipeline setup\` again.`,
          },
        );
      }
    }
    writeRegistries(ctx.paths, { ...readRegistries(ctx.paths), ...state });
  },
};

/** Writes the credentials once (address kept current) and the htpasswd file; returns its path. */
async function ensureCredentials(ctx: StepContext, address: string): Promise<string> {
  mkdirSync(ctx.paths.state, { recursive: true });
  const existing = readRegistryAuth(ctx.paths);
  const auth = existing ?? {
    address,
    username: USERNAME,
    password: randomBytes(18).toString("base64url"),
  };
  if (!existing || existing.address !== address) {
    // A reader never sees half a credentials file.
    writeFileAtomic.sync(
      ctx.paths.registryAuthFile,
      `${JSON.stringify({ ...auth, address }, null, 2)}\n`,
      { mode: 0o600 },
    );
  }
  const htpasswd = join(ctx.paths.registry, "auth", "htpasswd");
  mkdirSync(join(ctx.paths.registry, "auth"), { recursive: true });
  if (!existsSync(htpasswd)) {
    await run("htpasswd", ["-c", "-i", "-B", htpasswd, auth.username], {
      input: auth.password,
      env: ctx.env,
    });
  }
  return htpasswd;
}
