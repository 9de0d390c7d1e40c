import { ProvenanceError } from "../errors.js";

/**
 * An in-toto ResourceDescriptor: a software artifact named by URI and/or digest.
 * https://github.com/in-toto/attestation/blob/main/spec/v1/resource_descriptor.md
 */
export interface ResourceDescriptor {
  uri?: string;
  /** Algorithm → lowercase hex (`sha256`, `gitCommit`). */
  digest?: Record<string, string>;
  name?: string;
  downloadLocation?: string;
  mediaType?: string;
  annotations?: Record<string, unknown>;
}

/** The SLSA Provenance v1 predicate (https://slsa.dev/spec/v1.0/provenance). */
export interface SlsaProvenanceV1 {
  buildDefinition: {
    buildType: string;
    externalParameters: Record<string, unknown>;
    internalParameters?: Record<string, unknown>;
    resolvedDependencies?: ResourceDescriptor[];
  };
  runDetails: {
    builder: {
      id: string;
      version?: Record<string, string>;
      builderDependencies?: ResourceDescriptor[];
    };
    metadata?: {
      invocationId?: string;
      startedOn?: string;
      finishedOn?: string;
    };
    byproducts?: ResourceDescriptor[];
  };
}

/** A base image the build pulled, pinned by the digest it resolved to. */
export interface BaseImage {
  /** As the Dockerfile names it: `node:24-bookworm-slim`. */
  ref: string;
  /** `sha256:<hex>` of the manifest (or index) the build used. */
  digest: string;
}

/** Everything the provenance says, taken as plain input: the builder reads nothing itself. */
export interface ProvenanceInput {
  /** The pipeline that built the image: a URI that names it (its source) and its version. */
  pipeline: { uri: string; version: string };
  /** Versions of the build's machinery, recorded under `runDetails.builder.version`. */
  toolVersions: { dagger: string } & Record<string, string>;
  /** The source that was built. */
  source: {
    /** `https://github.com/owner/repo` (no credentials). */
    repository: string;
    /** `refs/heads/main`, `refs/tags/v1.2.3`. */
    ref: string;
    /** The full 40-hex commit. */
    revision: string;
  };
  /** What was built from the source. */
  build: {
    dockerfile: string;
    context: string;
    target?: string | undefined;
    /** Build arguments: values that are not secret (labels, versions). */
    args: Readonly<Record<string, string>>;
    /** Names of the BuildKit secrets handed to the build; their values are never recorded. */
    secretNames?: readonly string[];
  };
  baseImages: readonly BaseImage[];
  /** A globally unique id of this run: the GitHub Actions run URL, or a UUID locally. */
  invocationId: string;
  startedOn: Date;
  finishedOn: Date;
  /** Builder-controlled parameters worth keeping for debugging (mode, platform, engine image). */
  internalParameters?: Record<string, unknown>;
  /** Artifacts the run produced besides the image (the SBOM, the scan report), by digest. */
  byproducts?: readonly ResourceDescriptor[];
  /**
   * Values that must not appear anywhere in the predicate (registry password, key password):
   * the builder refuses to produce a predicate that contains one.
   */
  secretValues?: readonly string[];
}

const COMMIT = /^[0-9a-f]{40}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** `https://…/ci` → `https://…/ci/build-types/dockerfile-image/v1`: the template this pipeline follows. */
export function buildTypeOf(pipelineUri: string): string {
  return `${pipelineUri.replace(/\/+$/, "")}/build-types/dockerfile-image/v1`;
}

/** A purl for a Docker image reference, as BuildKit's provenance writes it (`pkg:docker/node@24-slim`). */
export function dockerPurl(ref: string): string {
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  const [name, tag] = colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, "latest"];
  return `pkg:docker/${name}@${encodeURIComponent(tag)}`;
}

function requireUri(field: string, value: string): void {
  let ok = false;
  try {
    ok = new URL(value).protocol !== "";
  } catch {
    ok = false;
  }
  if (!ok) throw new ProvenanceError(`${field} must be a URI, got ${JSON.stringify(value)}`);
}

/**
 * Builds the SLSA v1 provenance predicate for one image build, to be attested with
 * `cosign attest --type slsaprovenance1`. Pure: the same input gives the same predicate.
 *
 * - `buildDefinition.buildType`: `<pipeline.uri>/build-types/dockerfile-image/v1`.
 * - `externalParameters`: the source (repository, ref, revision) and the build (Dockerfile,
 *   context, target, build args, secret NAMES).
 * - `resolvedDependencies`: the source commit (`gitCommit`) and every base image by digest.
 * - `runDetails.builder`: `id` = `<pipeline.uri>@<version>`, `version` = the pipeline's and
 *   Dagger's (and any other tool's) versions.
 * - `runDetails.metadata`: `invocationId`, `startedOn`, `finishedOn` (RFC 3339, UTC).
 *
 * Throws ProvenanceError when an input is malformed or a secret value would be recorded.
 */
export function buildProvenance(input: ProvenanceInput): SlsaProvenanceV1 {
  requireUri("pipeline.uri", input.pipeline.uri);
  requireUri("source.repository", input.source.repository);
  if (new URL(input.source.repository).username || new URL(input.source.repository).password) {
    throw new ProvenanceError(
      "source.repository carries credentials; pass the repository URL without user or token",
    );
  }
  if (!COMMIT.test(input.source.revision)) {
    throw new ProvenanceError(
      `source.revision must be a full 40-hex git commit, got ${JSON.stringify(input.source.revision)}`,
    );
  }
  if (!input.source.ref.startsWith("refs/")) {
    throw new ProvenanceError(
      `source.ref must be a full ref such as refs/heads/main, got ${JSON.stringify(input.source.ref)}`,
    );
  }
  for (const image of input.baseImages) {
    if (!DIGEST.test(image.digest)) {
      throw new ProvenanceError(
        `base image ${image.ref}: digest must be sha256:<64 hex>, got ${JSON.stringify(image.digest)}`,
      );
    }
  }
  if (Number.isNaN(input.startedOn.getTime()) || Number.isNaN(input.finishedOn.getTime())) {
    throw new ProvenanceError("startedOn and finishedOn must be valid dates");
  }
  if (input.finishedOn < input.startedOn) {
    throw new ProvenanceError(
      `finishedOn (${input.finishedOn.toISOString()}) is before startedOn (${input.startedOn.toISOString()})`,
    );
  }
  if (input.invocationId.trim() === "") {
    throw new ProvenanceError("invocationId must not be empty");
  }

  const { pipeline, source, build } = input;
  const predicate: SlsaProvenanceV1 = {
    buildDefinition: {
      buildType: buildTypeOf(pipeline.uri),
      externalParameters: {
        source: { repository: source.repository, ref: source.ref, revision: source.revision },
        build: {
          dockerfile: build.dockerfile,
          context: build.context,
          ...(build.target ? { target: build.target } : {}),
          args: Object.fromEntries(
            Object.entries(build.args).sort(([a], [b]) => a.localeCompare(b)),
          ),
          secrets: [...(build.secretNames ?? [])].sort(),
        },
      },
      ...(input.internalParameters ? { internalParameters: input.internalParameters } : {}),
      resolvedDependencies: [
        {
          uri: `git+${source.repository}@${source.ref}`,
          digest: { gitCommit: source.revision },
        },
        ...input.baseImages.map((image) => ({
          uri: dockerPurl(image.ref),
          name: image.ref,
          digest: { sha256: image.digest.slice("sha256:".length) },
        })),
      ],
    },
    runDetails: {
      builder: {
        id: `${pipeline.uri.replace(/\/+$/, "")}@${pipeline.version}`,
        version: { pipeline: pipeline.version, ...input.toolVersions },
      },
      metadata: {
        invocationId: input.invocationId,
        startedOn: input.startedOn.toISOString(),
        finishedOn: input.finishedOn.toISOString(),
      },
      ...(input.byproducts?.length ? { byproducts: [...input.byproducts] } : {}),
    },
  };

  const text = JSON.stringify(predicate);
  for (const secret of input.secretValues ?? []) {
    if (secret !== "" && text.includes(secret)) {
      throw new ProvenanceError(
        "a secret value would be recorded in the provenance (in a build argument, a parameter or a byproduct): pass it as a BuildKit secret, not as a build argument",
      );
    }
  }
  return predicate;
}
