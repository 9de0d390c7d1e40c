import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { type EmulationStatus, emulationStatus } from "../../host/emulation.js";
import { type ImageStore, imageStoreOf } from "../../host/image-store.js";
import { type Arch, archOf, hostArch } from "../../host/platforms.js";
import { codeFingerprint, fileHash } from "../cache/results.js";
import type { Check, CheckContext } from "../checks/check.js";
import { CHECKS } from "../checks/index.js";
import { buildProject, composeTarget, STACK_IMAGES, type StackImages } from "../checks/stack.js";
import { resolveRunEnv } from "../config/run-env.js";
import type { Config } from "../config/schema.js";
import { composeServices } from "../docker/compose.js";
import { tryDocker } from "../docker/docker.js";
import type { ImageFacts } from "../docker/image-facts.js";
import type { Labels } from "../git/run-facts.js";
import type { ComputedTags } from "../git/tags.js";
import { baseImageRefs } from "../sign/base-images.js";
import { sharedWork } from "../stages/verify.js";
import { type RegistryHosts, resolveBaseDigest } from "./base-digests.js";
import { contextHash, NEVER_UPLOAD } from "./context-hash.js";

/** Bumped whenever what a run record holds, or how the key is made, changes. */
const FORMAT = 2;

/**
 * The configuration less what only says where results go or how they are published (the
 * registry, tags, signing, the report directory): a run that publishes is never replayed, and
 * the report is written wherever this run asks. Every other section counts, new ones included.
 */
function checkedConfig(config: Config): Partial<Config> {
  const out: Partial<Config> = { ...config };
  for (const name of ["registry", "tags", "sign", "reportDir"] as const) delete out[name];
  return out;
}

/** A check without a cache key always runs, so a run that includes one is never replayed. */
export class NotReplayable extends Error {}

export interface RunKeyInputs {
  stage: string;
  skip: readonly string[];
  /** The loaded configuration; `reportDir` absolute. */
  config: Config;
  cwd: string;
  labels: Labels;
  offline: boolean;
  /** A CI run: checks that would write into the repository fail instead. */
  ci: boolean;
  npmCaFile: string | undefined;
  /** The engine's registry settings: where base images are resolved from. */
  registryHosts: RegistryHosts;
  /** The check table; the pipeline's own by default. */
  checks?: readonly Check[] | undefined;
  /** What the key reads from outside the repository; the real readers by default (tests inject their own). */
  reads?: Partial<KeyReads> | undefined;
}

/** The key's reads of the world outside the build context: registries, binfmt_misc, the pipeline's own code. */
export interface KeyReads {
  /** The digest a build of `ref` resolves now (`resolveBaseDigest`). */
  baseDigest(ref: string, hosts: RegistryHosts): Promise<string>;
  /** Whether containers of `arch` run here (`emulationStatus`). */
  emulation(arch: Arch): Promise<EmulationStatus>;
  /** This machine's architecture. */
  hostArch(): Arch;
  /** The pipeline's code and locked dependencies. */
  code(): string;
  /** The Docker engine the checks run on (`dockerEngine`). */
  engine(): Promise<DockerEngine>;
}

/**
 * The Docker engine's version and image store. The store decides the image ids a run records
 * (the config digest in the classic store, the manifest or index digest in the containerd store),
 * and the version what the checks can see (`HEALTHCHECK --start-interval` needs 25), so a run
 * checked on one engine is not replayed on another.
 */
export interface DockerEngine {
  version: string;
  store: ImageStore;
}

/** Reads the engine's version and image store from `docker info`. */
export async function dockerEngine(): Promise<DockerEngine> {
  const info = await tryDocker(["info", "--format", "{{.ServerVersion}} {{json .DriverStatus}}"]);
  if (!info) throw new Error("docker info did not answer: the engine cannot be described");
  const at = info.indexOf(" ");
  const version = info.slice(0, at).trim();
  return { version, store: imageStoreOf(JSON.parse(info.slice(at + 1)) as string[][] | null) };
}

const REAL_READS: KeyReads = {
  baseDigest: resolveBaseDigest,
  emulation: (arch) => emulationStatus(arch),
  hostArch: () => hostArch(),
  code: codeFingerprint,
  engine: dockerEngine,
};

/** Local image ids of `refs` (one `docker image inspect`), `missing` for those Docker lacks. */
async function localIds(refs: readonly string[]): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  await Promise.all(
    refs.map(async (ref) => {
      ids[ref] =
        (await tryDocker(["image", "inspect", "--format", "{{.Id}}", ref]))?.trim() || "missing";
    }),
  );
  return ids;
}

/**
 * The stack's neighbours as the run key sees them, without building them: a
 * service built from source is identified by what its build reads (the
 * context as sent, its Dockerfile, the local images its `FROM` lines name —
 * Compose builds from those without pulling), any other by its local image id.
 * Stands in for `stackImages`, which builds them to read their ids.
 */
async function neighboursByInputs(ctx: CheckContext): Promise<StackImages | undefined> {
  const target = composeTarget(ctx.config, ctx.cwd);
  if (!target) return undefined;
  const { file, service } = target;
  const services = await composeServices({
    cwd: ctx.cwd,
    file,
    project: buildProject(ctx.cwd),
    env: ctx.runEnv,
  });
  const ids: Record<string, string> = {};
  await Promise.all(
    services.names
      .filter((name) => name !== service)
      .map(async (name) => {
        const build = services.builds[name];
        if (!build) {
          const image = services.images[name] as string;
          ids[name] = `image ${(await localIds([image]))[image]}`;
          return;
        }
        const dockerfile = readFileSync(resolve(build.context, build.dockerfile), "utf8");
        const bases = await localIds(baseImageRefs(dockerfile, {}));
        ids[name] = `build ${createHash("sha256")
          .update(JSON.stringify([contextHash(build.context), dockerfile, bases]))
          .digest("hex")}`;
      }),
  );
  return { file, service, services, ids, build: { exitCode: 0, output: "" } };
}

/**
 * Everything a run's outcome depends on, as one sha256: the request (stage,
 * skips, configuration), the labels git gives the image, the build's inputs
 * (the context as sent, the Dockerfile, the base images' current digests as
 * the engine would resolve them, the npm CA), whether each platform can run
 * here, and every check's own cache key (tool and database versions, the
 * compose stack and its neighbours, the files checks read). Two runs with the
 * same key build the same image and check it the same way. Throws when
 * something cannot be read (a base image nobody serves): such a run is not
 * replayed.
 */
export async function runKey(inputs: RunKeyInputs): Promise<RunKey> {
  const { config, cwd } = inputs;
  const reads = { ...REAL_READS, ...inputs.reads };
  const contextDir = resolve(cwd, config.image.context);
  const dockerfile = readFileSync(resolve(contextDir, config.image.dockerfile), "utf8");
  const reportDir = relative(contextDir, config.reportDir);
  const skip = [
    ...NEVER_UPLOAD,
    ...(reportDir && !reportDir.startsWith("..") && !isAbsolute(reportDir) ? [reportDir] : []),
  ];
  // First, so that the key describes the files as the build (starting now) uploads them.
  const context = contextHash(contextDir, skip);
  const host = reads.hostArch();
  const [engine, platforms, bases] = await Promise.all([
    reads.engine(),
    Promise.all(
      config.image.platforms.map(async (platform) => {
        const native = archOf(platform) === host;
        return {
          platform,
          native,
          runnable: native ? ({ ok: true } as const) : await reads.emulation(archOf(platform)),
        };
      }),
    ),
    Promise.all(
      baseImageRefs(dockerfile, config.image.buildArgs).map(async (ref) => [
        ref,
        await reads.baseDigest(ref, inputs.registryHosts),
      ]),
    ),
  ]);
  const checks = await checkInputs(inputs, platforms);
  const parts = {
    format: FORMAT,
    code: reads.code(),
    engine,
    stage: inputs.stage,
    skip: [...inputs.skip].sort(),
    config: checkedConfig(config),
    labels: inputs.labels,
    offline: inputs.offline,
    ci: inputs.ci,
    build: {
      context,
      dockerfile,
      dockerignore: fileHash(join(contextDir, ".dockerignore")),
      npmCa: inputs.npmCaFile ? fileHash(inputs.npmCaFile) : undefined,
      bases,
    },
    platforms,
    checks,
  };
  const text = JSON.stringify(parts);
  return { key: createHash("sha256").update(text).digest("hex"), parts: JSON.parse(text) };
}

/** A run's key, and what it was made of (kept with the record, to say why a later run missed). */
export interface RunKey {
  key: string;
  parts: Record<string, unknown>;
}

/** The dotted paths (two levels deep) where two keys' parts differ: why a run was not replayed. */
export function keyDifferences(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const [x, y] = [a[name], b[name]];
    if (JSON.stringify(x) === JSON.stringify(y)) continue;
    const nested =
      x && y && typeof x === "object" && typeof y === "object" && !Array.isArray(x)
        ? [...new Set([...Object.keys(x), ...Object.keys(y)])].filter(
            (k) =>
              JSON.stringify((x as Record<string, unknown>)[k]) !==
              JSON.stringify((y as Record<string, unknown>)[k]),
          )
        : [];
    out.push(...(nested.length ? nested.map((k) => `${name}.${k}`) : [name]));
  }
  return out;
}

/** Every check's cache key, for each platform it runs on; the stack's neighbours by their inputs. */
async function checkInputs(
  inputs: RunKeyInputs,
  platforms: readonly Pick<CheckContext, "platform" | "native" | "runnable">[],
): Promise<Record<string, unknown>> {
  if (inputs.stage === "build") return {};
  const native = platforms.find((p) => p.native) ?? platforms[0];
  if (!native) throw new NotReplayable("image.platforms is empty");
  const shared = sharedWork();
  // Generated values as the run makes them; only their names reach any key.
  const { env: runEnv } = resolveRunEnv(inputs.config.image.runEnv);
  const contextOf = (p: (typeof platforms)[number]): CheckContext => {
    const ctx: CheckContext = {
      ...p,
      image: "unbuilt",
      tarball: "",
      facts: { id: "unbuilt", sizeBytes: 0, compressedBytes: 0, layers: [] } satisfies ImageFacts,
      config: inputs.config,
      cwd: inputs.cwd,
      runEnv,
      offline: inputs.offline,
      ci: inputs.ci,
      release: undefined,
      nativeImage: platforms.some((p) => p.native) ? "unbuilt" : undefined,
      sharedAcrossPlatforms: (key, compute) => shared.get(`* ${key}`, compute),
      shared: (key, compute, dispose) =>
        shared.get(
          `${p.platform} ${key}`,
          key === STACK_IMAGES
            ? () => neighboursByInputs(ctx) as ReturnType<typeof compute>
            : compute,
          dispose,
        ),
    };
    return ctx;
  };
  try {
    const entries = await Promise.all(
      (inputs.checks ?? CHECKS)
        .filter((check) => !inputs.skip.includes(check.id))
        .map(async (check) => {
          if (!check.cacheKey) throw new NotReplayable(`${check.id} always runs`);
          const targets = check.perPlatform ? platforms : [native];
          return [check.id, await Promise.all(targets.map((p) => check.cacheKey?.(contextOf(p))))];
        }),
    );
    return Object.fromEntries(entries);
  } finally {
    await shared.dispose();
  }
}

/**
 * Whether a run is of the kind that may be replayed (and is kept for that
 * when it passes): it builds or verifies, publishes nothing, and is not a
 * release (whose checks compare against the previous release). A
 * `--no-cache` run is kept too, but never replays one.
 */
export function replayable(
  req: { stage: string; publish: boolean },
  computed: Pick<ComputedTags, "publish" | "kind">,
): boolean {
  const publishes =
    (req.stage === "all" || req.stage === "publish") && req.publish && computed.publish;
  return (
    (req.stage === "build" || req.stage === "verify" || req.stage === "all") &&
    !publishes &&
    computed.kind !== "release" &&
    computed.kind !== "prerelease"
  );
}
