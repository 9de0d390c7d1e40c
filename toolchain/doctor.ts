import { emulationStatus } from "./emulation.js";
import { toolchainEnv } from "./env.js";
import { run } from "./exec.js";
import { parseImageRef } from "./image-ref.js";
import { detectMode, type Mode } from "./mode.js";
import type { ToolchainPaths } from "./paths.js";
import { ARCHES, allArches, foreignArches } from "./platforms.js";
import { basicAuth, manifestDigest } from "./registry-api.js";
import { REGISTRY_PORTS } from "./registry-config.js";
import { mirrorPlatforms } from "./steps/base-images.js";
import { DAGGER_ENGINE_IMAGE, engineImageVersion } from "./steps/dagger-engine.js";
import { readRegistryAuth, registryStatus } from "./steps/registry.js";
import { baseImages, versions } from "./versions.js";

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
}

const SETUP = "run `npm run setup`";

type Probe = (
  env: NodeJS.ProcessEnv,
  paths: ToolchainPaths,
  mode: Mode,
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
  docker: (env) =>
    versionOf(
      "docker",
      ["version", "--format", "{{.Server.Version}}"],
      env,
      undefined,
      "start the Docker daemon (as root: `npm run setup` installs and starts it)",
    ),
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
  "dagger-engine": async (env, _paths, mode) => {
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
        detail: `this Docker daemon cannot run privileged containers (${reason}); restart dockerd through \`npm run setup\`, which adds the runc-bounded runtime`,
      };
    }
    return { ok: true, version, detail: "ok" };
  },
  registry: async (_env, paths) => {
    const mirror = await registryStatus(REGISTRY_PORTS.mirror);
    const auth = await registryStatus(REGISTRY_PORTS.auth);
    const creds = readRegistryAuth(paths);
    if (mirror !== 200)
      return {
        ok: false,
        version: null,
        detail: `no registry answers on :${REGISTRY_PORTS.mirror}; ${SETUP}`,
      };
    if (auth !== 401)
      return {
        ok: false,
        version: null,
        detail: `no authenticated registry on :${REGISTRY_PORTS.auth}; ${SETUP}`,
      };
    if (!creds)
      return { ok: false, version: null, detail: `${paths.registryAuthFile} is missing; ${SETUP}` };
    const res = await fetch(`http://127.0.0.1:${REGISTRY_PORTS.auth}/v2/`, {
      headers: {
        Authorization: basicAuth(creds),
      },
      signal: AbortSignal.timeout(3000),
    }).catch(() => undefined);
    if (res?.status !== 200) {
      return {
        ok: false,
        version: null,
        detail: `the registry refuses the credentials in ${paths.registryAuthFile}; delete it and ${SETUP}`,
      };
    }
    return {
      ok: true,
      version: "distribution 2.8",
      detail: `mirror :${REGISTRY_PORTS.mirror}, auth ${creds.address}`,
    };
  },
  "base-images": async (_env, _paths, mode) => {
    if (mode === "online")
      return { ok: true, version: null, detail: "pulled from their upstream registries" };
    const wanted = allArches()
      .map((a) => ARCHES[a].platform)
      .sort();
    const problems: string[] = [];
    for (const ref of Object.values(baseImages)) {
      const { path, tag = "latest" } = parseImageRef(ref);
      if (!(await manifestDigest(`127.0.0.1:${REGISTRY_PORTS.mirror}`, path, tag))) {
        problems.push(`${ref} is not in the mirror`);
        continue;
      }
      const found = await mirrorPlatforms(ref);
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

/** Checks every component; `ok` only when all are usable. */
export async function doctor(
  paths: ToolchainPaths,
  baseEnv: NodeJS.ProcessEnv = process.env,
): Promise<DoctorReport> {
  const { mode } = await detectMode(baseEnv);
  const env = toolchainEnv(paths, baseEnv);
  const components: Component[] = [];
  for (const [name, probe] of Object.entries(probes)) {
    components.push({ name, ...(await probe(env, paths, mode)) });
  }
  return { ok: components.every((c) => c.ok), mode, components };
}

/** The human table. */
export function renderDoctor(report: DoctorReport): string {
  const rows = report.components.map((c) => [
    c.ok ? "ok" : "FAIL",
    c.name,
    c.version ?? "-",
    c.detail,
  ]);
  const widths = [4, 13, 14];
  const lines = rows.map((r) =>
    r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell)).join("  "),
  );
  return [
    `mode: ${report.mode}`,
    ...lines,
    report.ok ? "all components usable" : "some components need attention (see FAIL lines)",
  ].join("\n");
}
