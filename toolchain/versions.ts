/**
 * Every pinned version of the toolchain, in one place.
 *
 * Dagger is pinned three times over — the npm SDK in package-lock.json, the CLI
 * and the engine image — and they must agree; `setup` refuses to continue when
 * the lockfile's `@dagger.io/dagger` differs from `DAGGER_VERSION`.
 * 0.19.10 is the newest release whose CLI, engine and every Go dependency the
 * Go module proxy serves in full (0.21.x pulls modules the proxy refuses).
 */
export const versions = {
  dagger: "0.19.10",
  trivy: "0.74.0",
  actionlint: "1.7.12",
  compose: "2.40.3",
  buildx: "0.29.1",
  /** Node.js in the `node:24-bookworm-slim` base image we build air-gapped. */
  node: "24.21.0",
  /** npm bundled into that image, as the official image bundles it. */
  npm: "11.6.2",
  debianSuite: "bookworm",
  /** Debian's CNCF distribution registry (package `docker-registry`). */
  registryPackage: "docker-registry",
} as const;

/** Go module paths and the binary each produces. */
export const goTools = [
  {
    name: "actionlint",
    module: "github.com/rhysd/actionlint",
    pkg: "github.com/rhysd/actionlint/cmd/actionlint",
    version: versions.actionlint,
    versionArgs: ["--version"],
  },
  {
    name: "docker-compose",
    module: "github.com/docker/compose/v2",
    pkg: "github.com/docker/compose/v2/cmd",
    version: versions.compose,
    versionArgs: ["version", "--short"],
    ldflags: `-X github.com/docker/compose/v2/internal.Version=v${versions.compose}`,
  },
  {
    name: "docker-buildx",
    module: "github.com/docker/buildx",
    pkg: "github.com/docker/buildx/cmd/buildx",
    version: versions.buildx,
    versionArgs: ["version"],
    ldflags: `-X github.com/docker/buildx/version.Version=v${versions.buildx}`,
  },
  {
    name: "trivy",
    module: "github.com/aquasecurity/trivy",
    pkg: "github.com/aquasecurity/trivy/cmd/trivy",
    version: versions.trivy,
    versionArgs: ["--version"],
    ldflags: `-X github.com/aquasecurity/trivy/pkg/version/app.ver=${versions.trivy}`,
    // Trivy imports encoding/json/v2, still behind an experiment in Go 1.25/1.26.
    goEnv: { GOEXPERIMENT: "jsonv2" },
  },
] as const;

/**
 * Base images the Dockerfile names (its runtime stage is `scratch` plus the
 * Node.js binary and the libraries it links), by their upstream references.
 * Air-gapped, `setup` builds each from Debian packages (and the official
 * Node.js binary from npm) and serves it from the local mirror under the same name.
 */
export const baseImages = {
  debian: "debian:bookworm-slim",
  node: "node:24-bookworm-slim",
} as const;
