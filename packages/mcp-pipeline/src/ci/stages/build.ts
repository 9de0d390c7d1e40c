import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  type Client,
  type Container,
  dag,
  ExecError,
  GraphQLRequestError,
  type Platform,
} from "@dagger.io/dagger";
import type { Config } from "../config/schema.js";
import { docker } from "../docker/docker.js";
import { type ImageFacts, measureImage } from "../docker/image-facts.js";
import { loadImageOnce } from "../docker/load.js";
import type { Labels } from "../git/run-facts.js";
import { NEVER_UPLOAD } from "../replay/context-hash.js";
import { buildErrorFrom } from "./build-failure.js";

export interface BuildInputs {
  cwd: string;
  config: Config;
  /**
   * Label values, passed as the build args VERSION, REVISION, CREATED and SOURCE, and
   * MCP_SERVER_NAME when server.json names the server.
   */
  labels: Labels;
  /** CA bundle handed to the build as the `npm_ca` BuildKit secret, when set. */
  npmCaFile: string | undefined;
  /** Where the exported image tarball goes. */
  workDir: string;
  /** Dagger's plain trace, where a failed step's output is read from (PIPELINE_TRACE_LOG). */
  traceLog?: string | undefined;
}

/** One platform's image, as Dagger will publish it. */
export interface PlatformImage {
  /** `os/arch[/variant]`, as configured. */
  platform: string;
  container: Container;
}

/** One platform's image as the checks see it: loaded into Docker, exported, measured. */
export interface CheckedImage {
  platform: string;
  /** The engine's own platform: containers run without emulation. */
  native: boolean;
  /** In the local Docker engine: `<name>:pipeline`, `<name>:pipeline-linux-arm64`. */
  localRef: string;
  tarball: string;
  facts: ImageFacts;
}

export interface Built {
  /** The image the checks run: the engine's own platform when configured, else the first. */
  container: Container;
  platform: string;
  /** Every platform's image, loaded and measured for the per-platform gates; the native one first. */
  images: CheckedImage[];
  /** Every configured platform's image, `container` among them; published as one index. */
  platforms: PlatformImage[];
  /** The image in the local Docker engine, as verified (`<name>:pipeline`). */
  localRef: string;
  /** The same image as an OCI tarball (Trivy and the size facts read it). */
  tarball: string;
  facts: ImageFacts;
}

/**
 * One container per platform from the same Dockerfile (`dockerBuild` with
 * `platform`). Lazy, like every Dagger object, until exported or published; the
 * Dockerfile's `--platform=$BUILDPLATFORM` stages (npm ci, the bundle) are the
 * same operations for every platform, so the engine runs them once.
 */
export function buildPlatforms(
  inputs: BuildInputs,
  platforms: readonly string[],
  client: Client = dag,
): PlatformImage[] {
  const { config, cwd } = inputs;
  const contextDir = resolve(cwd, config.image.context);
  const source = client
    .host()
    .directory(contextDir, { exclude: [...NEVER_UPLOAD, config.reportDir] });
  const buildArgs = {
    ...config.image.buildArgs,
    VERSION: inputs.labels.version,
    REVISION: inputs.labels.revision,
    CREATED: inputs.labels.created,
    SOURCE: inputs.labels.source,
    ...(inputs.labels.mcpServerName ? { MCP_SERVER_NAME: inputs.labels.mcpServerName } : {}),
  };
  const secrets = inputs.npmCaFile
    ? [client.setSecret("npm_ca", readFileSync(inputs.npmCaFile, "utf8"))]
    : [];
  return platforms.map((platform) => ({
    platform,
    container: source.dockerBuild({
      dockerfile: config.image.dockerfile,
      platform: platform as Platform,
      ...(config.image.target ? { target: config.image.target } : {}),
      buildArgs: Object.entries(buildArgs).map(([name, value]) => ({ name, value })),
      secrets,
    }),
  }));
}

/**
 * Builds the Dockerfile with Dagger for every configured platform (see
 * `buildPlatforms`), OCI labels filled from git, then exports one of them —
 * the engine's own platform when configured — as a tarball and loads it into
 * Docker for the checks. The image config — USER, HEALTHCHECK with every flag,
 * labels — is exactly what Dagger built and will publish.
 */
export async function build(inputs: BuildInputs, client: Client = dag): Promise<Built> {
  const platforms = buildPlatforms(inputs, inputs.config.image.platforms, client);
  const native = String(await client.defaultPlatform());
  const checked = platforms.find((p) => p.platform === native) ?? platforms[0];
  if (!checked) throw new Error("image.platforms is empty");
  // Every platform builds here, so a failure is the build's (exit 1, naming the
  // platform) rather than surfacing later as a failed publish.
  await Promise.all(
    platforms.map(async ({ platform, container }) => {
      try {
        await container.sync();
      } catch (err) {
        const fromBuild = err instanceof ExecError || err instanceof GraphQLRequestError;
        throw fromBuild && platforms.length > 1
          ? await buildErrorFrom(err, inputs.traceLog, undefined, platform)
          : err;
      }
    }),
  );
  const { container } = checked;
  const ordered = [checked, ...platforms.filter((p) => p !== checked)].map((image) => {
    const suffix = image === checked ? "" : `-${image.platform.replaceAll("/", "-")}`;
    return { ...image, suffix, tarball: join(inputs.workDir, `image${suffix}.tar`) };
  });
  // The engine writes every platform's tarball at once; Docker then loads
  // them one at a time, since loads of 130 MB images in parallel only compete
  // for the disk.
  const exported = ordered.map((image) => image.container.export(image.tarball));
  // A later export's failure is thrown where it is awaited, not as an unhandled rejection.
  for (const pending of exported) pending.catch(() => undefined);
  const images: CheckedImage[] = [];
  for (const [i, image] of ordered.entries()) {
    const native = image === ordered[0];
    const { suffix, tarball } = image;
    await exported[i];
    const id = await loadImageOnce(tarball);
    const localRef = `${inputs.config.image.name}:pipeline${suffix}`;
    await docker(["tag", id, localRef]);
    images.push({
      platform: image.platform,
      native,
      localRef,
      tarball,
      facts: await measureImage(localRef, tarball),
    });
  }
  const [first] = images;
  if (!first) throw new Error("no image was built");
  return {
    container,
    platform: checked.platform,
    images,
    platforms,
    localRef: first.localRef,
    tarball: first.tarball,
    facts: first.facts,
  };
}
