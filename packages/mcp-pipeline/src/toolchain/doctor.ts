import { statSync } from "node:fs";
import { userInfo } from "node:os";
import { emulationStatus } from "../host/emulation.js";
import { run } from "../host/exec.js";
import { parseImageRef } from "../host/image-ref.js";
import { ARCHES, allArches, foreignArches } from "../host/platforms.js";
import { basicAuth, manifestDigest } from "../host/registry-api.js";
import { renderTable } from "../host/terminal.js";
import { DAGGER_ENGINE_IMAGE, engineImageVersion } from "./dagger-engine-image.js";
import { dockerMajor } from "./engine/choice.js";
import { dockerGroupEntry, localSocket, socketAccess } from "./engine/group.js";
import { currentEngineInstalled } from "./engine/install.js";
import { toolchainEnv } from "./env.js";
import { detectMode } from "./mode.js";
import type { Mode, ToolchainPaths } from "./settings.js";
import { engineBinDir, type ToolchainSettings, usesSharedEngine } from "./settings.js";
import {
  type Provenance,
  readProvenance,
  readRegistries,
  readRegistryAuth,
  readState,
} from "./state.js";
import { mirrorPlatforms } from "./steps/base-images.js";
import { engineContainerName, lostEngineVolumes } from "./steps/engine-config.js";
import { registryStatus } from "./steps/registry.js";
import { baseImages, currentEngine, versions } from "./versions.js";

export interface Component {
  name: string;
  ok: boolean;
  version: string | null;
  detail: string;
}

export interface DoctorReport {
  ok: boolean;
  mode: Mode;
  components: Component[];
  /** Where each tool came from and what was verified before it was installed. */
  provenance: Provenance[];
}

const SETUP = "run `mcp-pipeline setup`";

type Probe = (
  env: NodeJS.ProcessEnv,
  paths: ToolchainPaths,
  mode: Mode,
  settings: ToolchainSettings,
) => Promise<Omit<Component, "name">>;

/** Runs a version command; a failure becomes a component that says how to fix it. */
async function versionOf(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  expect: string | undefined,
  fix: string,
  pick: (out: string) => string = (o) => o.split("\n")[0] ?? o,
): Promise<Omit<Component, "name">> {
  let out: string;
  try {
    out = await run(cmd, args, { env, timeoutMs: 20_000 });
  } catch (err) {
    const reason = err instanceof Error ? (err.message.split("\n")[0] ?? "") : String(err);
    return { ok: false, version: null, detail: `${cmd} is not usable (${reason}); ${fix}` };
  }
  const version = pick(out).trim();
  if (expect && !out.includes(expect)) {
    return { ok: false, version, detail: `expected ${expect}, found ${version}; ${fix}` };
  }
  return { ok: true, version, detail: "ok" };
}

const probes: Record<string, Probe> = {
  docker: async (env) => {
    const r = await versionOf(
      "docker",
      ["version", "--format", "{{.Server.Version}}"],
      env,
      undefined,
      "start the Docker daemon (as root: `mcp-pipeline setup` installs and starts it)",
    );
    const major = r.version ? dockerMajor(r.version) : undefined;
    if (r.ok && major !== undefined && major < currentEngine.oldestKept)
      return {
        ...r,
        ok: false,
        detail: `out of support (older than ${currentEngine.oldestKept}; ignores HEALTHCHECK --start-interval); upgrade it, or remove it and ${SETUP} (installs Docker ${currentEngine.docker})`,
      };
    return r;
  },
  "docker-group": async (env) => {
    const socket = localSocket(env.DOCKER_HOST);
    let stat: { uid: number; gid: number; mode: number } | undefined;
    try {
      if (socket) stat = statSync(socket);
    } catch {
      stat = undefined;
    }
    return socketAccess({
      socket,
      host: env.DOCKER_HOST,
      stat,
      uid: process.getuid?.() ?? 0,
      groups: process.getgroups?.() ?? [],
      dockerGroup: await dockerGroupEntry(env),
      user: userInfo().username,
    });
  },
  "current-engine": async (env, paths) => {
    const dir = engineBinDir(paths);
    if (await currentEngineInstalled({ paths, env }))
      return {
        ok: true,
        version: currentEngine.docker,
        detail: `in ${dir} (containerd ${currentEngine.containerd}, runc ${currentEngine.runc})`,
      };
    return {
      ok: true,
      version: null,
      detail: `not installed: the machine's own engine is used (setup installs Docker ${currentEngine.docker} where there is none)`,
    };
  },
  buildkit: async (env) => {
    const r = await versionOf(
      "docker",
      ["buildx", "inspect"],
      env,
      undefined,
      `${SETUP} (installs Buildx so docker builds use BuildKit)`,
      (o) => /BuildKit version:\s*(\S+)/i.exec(o)?.[1] ?? "unknown",
    );
    return r;
  },
  compose: (env) =>
    versionOf(
      "docker",
      ["compose", "version", "--short"],
      env,
      versions.compose,
      `${SETUP} (installs the Compose v2 CLI plugin)`,
    ),
  buildx: (env) =>
    versionOf(
      "docker",
      ["buildx", "version"],
      env,
      versions.buildx,
      `${SETUP} (installs the Buildx CLI plugin)`,
      (o) => o.split(/\s+/)[1] ?? o,
    ),
  cosign: (env) =>
    versionOf(
      "cosign",
      ["version"],
      env,
      `v${versions.cosign}`,
      `${SETUP} (installs cosign ${versions.cosign})`,
      (o) => /GitVersion:\s*(\S+)/.exec(o)?.[1] ?? o,
    ),
  trivy: (env) =>
    versionOf(
      "trivy",
      ["--version"],
      env,
      versions.trivy,
      `${SETUP} (builds Trivy ${versions.trivy})`,
      (o) => /Version:\s*(\S+)/.exec(o)?.[1] ?? o,
    ),
  actionlint: (env) =>
    versionOf(
      "actionlint",
      ["--version"],
      env,
      versions.actionlint,
      `${SETUP} (builds actionlint ${versions.actionlint})`,
    ),
  "dagger-cli": (env) =>
    versionOf(
      "dagger",
      ["version"],
      env,
      `v${versions.dagger}`,
      `${SETUP} (builds the Dagger CLI ${versions.dagger})`,
      (o) => /v\d+\.\d+\.\d+\S*/.exec(o)?.[0] ?? o,
    ),
  "dagger-engine": async (env, _paths, mode, settings) => {
    if (usesSharedEngine(settings)) return sharedEngine(env, settings.runnerHost ?? "");
    const container = engineContainerName(settings);
    const lost = await lostEngineVolumes(env, container);
    if (lost.length > 0)
      return {
        ok: false,
        version: null,
        detail: `the engine container ${container} has lost its state volume (docker volume prune?) and cannot start; ${SETUP}, which removes it`,
      };
    const version = await engineImageVersion(env);
    if (!version) {
      if (mode === "online")
        return {
          ok: true,
          version: null,
          detail: `${DAGGER_ENGINE_IMAGE} is pulled by the CLI on first use`,
        };
      return {
        ok: false,
        version: null,
        detail: `${DAGGER_ENGINE_IMAGE} is not in the local Docker engine; ${SETUP}`,
      };
    }
    if (version !== `v${versions.dagger}`) {
      return {
        ok: false,
        version,
        detail: `engine image is ${version}, the CLI and SDK are v${versions.dagger}; ${SETUP}`,
      };
    }
    // The CLI starts the engine as a privileged container; prove this daemon can run one.
    try {
      await run(
        "docker",
        ["run", "--rm", "--privileged", "--entrypoint", "/bin/true", DAGGER_ENGINE_IMAGE],
        { env, timeoutMs: 60_000 },
      );
    } catch (err) {
      const reason =
        err instanceof Error ? (err.message.split("\n").slice(-1)[0] ?? "") : String(err);
      return {
        ok: false,
        version,
        detail: `this Docker daemon cannot run privileged containers (${reason}); restart dockerd through \`mcp-pipeline setup\`, which adds the runc-bounded runtime`,
      };
    }
    return { ok: true, version, detail: "ok" };
  },
  registry: async (_env, paths) => {
    const state = readState(paths);
    if (!state) return { ok: false, version: null, detail: `no toolchain state yet; ${SETUP}` };
    const ports = readRegistries(paths);
    const used: string[] = [];
    if (state.registry.mirror) {
      const port = ports.mirror?.port;
      if (port === undefined || (await registryStatus(port)) !== 200)
        return {
          ok: false,
          version: null,
          detail: `the mirror ${state.registry.mirror} does not answer; ${SETUP}`,
        };
      used.push(`mirror ${state.registry.mirror}`);
    }
    if (state.registry.auth) {
      const port = ports.auth?.port;
      const creds = readRegistryAuth(paths);
      if (port === undefined || (await registryStatus(port)) !== 401)
        return {
          ok: false,
          version: null,
          detail: `no authenticated registry at ${state.registry.auth.address}; ${SETUP}`,
        };
      if (!creds)
        return {
          ok: false,
          version: null,
          detail: `${paths.registryAuthFile} is missing; ${SETUP}`,
        };
      const res = await fetch(`http://127.0.0.1:${port}/v2/`, {
        headers: { Authorization: basicAuth(creds) },
        signal: AbortSignal.timeout(3000),
      }).catch(() => undefined);
      if (res?.status !== 200) {
        return {
          ok: false,
          version: null,
          detail: `the registry refuses the credentials in ${paths.registryAuthFile}; delete it and ${SETUP}`,
        };
      }
      used.push(`auth ${creds.address}`);
    }
    if (used.length === 0)
      return {
        ok: true,
        version: null,
        detail: "none in use (online, publishing elsewhere)",
      };
    return { ok: true, version: "distribution 2.8", detail: used.join(", ") };
  },
  "base-images": async (_env, paths, mode) => {
    if (mode === "online")
      return { ok: true, version: null, detail: "pulled from their upstream registries" };
    const mirror = readRegistries(paths).mirror;
    if (!mirror) return { ok: false, version: null, detail: `no local mirror; ${SETUP}` };
    const wanted = allArches()
      .map((a) => ARCHES[a].platform)
      .sort();
    const problems: string[] = [];
    for (const ref of Object.values(baseImages)) {
      const { path, tag = "latest" } = parseImageRef(ref);
      if (!(await manifestDigest(`127.0.0.1:${mirror.port}`, path, tag))) {
        problems.push(`${ref} is not in the mirror`);
        continue;
      }
      const found = await mirrorPlatforms(ref, `127.0.0.1:${mirror.port}`);
      if (found.join(",") !== wanted.join(","))
        problems.push(`${ref} serves ${found.length ? found.join(", ") : "one platform"}`);
    }
    if (problems.length)
      return {
        ok: false,
        version: null,
        detail: `${problems.join("; ")} (expected an index of ${wanted.join(", ")}); ${SETUP}`,
      };
    return {
      ok: true,
      version: null,
      detail: `${Object.values(baseImages).join(", ")} (${wanted.join(", ")})`,
    };
  },
  emulation: async () => {
    const problems: string[] = [];
    for (const arch of foreignArches()) {
      const status = await emulationStatus(arch);
      if (!status.ok) problems.push(`${ARCHES[arch].platform}: ${status.reason}`);
    }
    const platforms = foreignArches().map((a) => ARCHES[a].platform);
    if (problems.length)
      return { ok: false, version: null, detail: `${problems.join("; ")}; ${SETUP} as root` };
    return {
      ok: true,
      version: null,
      detail: `${platforms.join(", ")} binaries run (QEMU, F flag)`,
    };
  },
};

/** An engine someone else runs: the CLI must reach it and it must run the pinned version. */
async function sharedEngine(
  env: NodeJS.ProcessEnv,
  runnerHost: string,
): Promise<Omit<Component, "name">> {
  const fix = `start the engine ${runnerHost} points at, or unset _EXPERIMENTAL_DAGGER_RUNNER_HOST`;
  let out: string;
  try {
    out = await run("dagger", ["--silent", "core", "version"], { env, timeoutMs: 120_000 });
  } catch (err) {
    const reason = err instanceof Error ? (err.message.split("\n").slice(-1)[0] ?? "") : "";
    return { ok: false, version: null, detail: `cannot reach ${runnerHost} (${reason}); ${fix}` };
  }
  const version = /v\d+\.\d+\.\d+\S*/.exec(out)?.[0] ?? out.trim();
  if (version !== `v${versions.dagger}`)
    return {
      ok: false,
      version,
      detail: `the engine at ${runnerHost} is ${version}, the CLI and SDK are v${versions.dagger}; run a v${versions.dagger} engine there`,
    };
  return { ok: true, version, detail: `shared engine at ${runnerHost}` };
}

/** Checks every component; `ok` only when all are usable. */
export async function doctor(
  paths: ToolchainPaths,
  settings: ToolchainSettings,
  baseEnv: NodeJS.ProcessEnv = process.env,
): Promise<DoctorReport> {
  // The mode setup chose, unless AIRGAP says otherwise now.
  const state = readState(paths);
  const mode =
    baseEnv.AIRGAP === undefined && state ? state.mode : (await detectMode(baseEnv)).mode;
  const env = toolchainEnv(paths, baseEnv);
  const components: Component[] = [];
  for (const [name, probe] of Object.entries(probes)) {
    components.push({ name, ...(await probe(env, paths, mode, settings)) });
  }
  const provenance = Object.values(readProvenance(paths));
  return { ok: components.every((c) => c.ok), mode, components, provenance };
}

/** One line of "where the tools came from": the source, what was checked against what, and by whom. */
export function provenanceLine(p: Provenance): string {
  const signed = p.signature
    ? p.signature.verified
      ? `, signature verified (${p.signature.by})`
      : `, signature not checked (${p.signature.reason})`
    : "";
  const what = p.source === "go-build" ? "built from" : "verified";
  // Debian's package version, and whether the signed index had expired when it was used
  // (accepted: the pin fixes the upstream version, see docs/toolchain.md).
  const a = p.archive;
  const expired =
    a?.validUntil && Date.parse(a.validUntil) < Date.parse(p.at)
      ? `, index valid until ${a.validUntil}`
      : "";
  const debian = a ? ` (Debian ${a.suite} ${a.package} ${a.version}${expired})` : "";
  return `  ${p.tool.padEnd(Math.max(15, p.tool.length + 1))}${p.source.padEnd(15)}${what} ${p.asset ?? ""}${debian} sha256 ${p.sha256.slice(0, 12)}… against ${p.checksumSource ?? "-"}${signed}`;
}

/** The human table. */
export function renderDoctor(report: DoctorReport): string {
  const rows = report.components.map((c) => [
    c.ok ? "ok" : "FAIL",
    c.name,
    c.version ?? "-",
    c.detail,
  ]);
  const lines = renderTable(
    [{ title: "STATUS" }, { title: "COMPONENT" }, { title: "VERSION" }, { title: "DETAIL" }],
    rows,
  );
  const origins = report.provenance.map(provenanceLine);
  return [
    `mode: ${report.mode}`,
    ...lines,
    ...(origins.length ? ["where the tools came from:", ...origins] : []),
    report.ok ? "all components usable" : "some components need attention (see FAIL lines)",
  ].join("\n");
}
