# Todo MCP server (default target) and its todo backend (`--target backend`).
#
# The same file builds online and air-gapped: base images are named by their
# upstream references, and `npm run setup` serves them from a local mirror
# under those names when there is no internet.
#
#   docker build -t todo-mcp .
#   docker build --target backend -t todo-backend .
#   # both platforms as one index (the pipeline does this with Dagger; with Docker it needs a
#   # multi-platform builder, and QEMU for the foreign platform's `node` stage):
#   docker buildx build --platform linux/amd64,linux/arm64 -t REGISTRY/todo-mcp --push \
#     --build-arg MCP_SERVER_NAME="$(node -p 'require("./server.json").name')" .
#   # behind a TLS-inspecting proxy (dependency stage only, never in a layer):
#   docker build --secret id=npm_ca,src=/etc/ssl/certs/ca-certificates.crt -t todo-mcp .

ARG NODE_IMAGE=node:24-bookworm-slim

# ── deps: npm ci from the lockfile alone, so this layer stays cached until it changes ──
# deps and build only produce platform-independent files (JavaScript, a bundle), so they
# run on the build platform: one npm ci and one esbuild for every target platform, none
# under emulation. --ignore-scripts keeps native install steps out.
FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=cache,id=npm-cache,target=/root/.npm,sharing=locked \
    --mount=type=secret,id=npm_ca,required=false \
    if [ -s /run/secrets/npm_ca ]; then export npm_config_cafile=/run/secrets/npm_ca; fi; \
    npm ci --no-audit --no-fund --ignore-scripts --loglevel=warn

# ── build: bundle each entry point into one file (no node_modules at run time) ──
FROM deps AS build
COPY tsconfig.json ./
COPY app ./app
RUN npm run build \
 && mkdir -p /rootfs/app /rootfs/data /rootfs/tmp /rootfs/etc \
 && cp dist/mcp/main.js /rootfs/app/mcp.mjs \
 && cp dist/backend/main.js /rootfs/app/backend.mjs \
 && cp dist/healthcheck.js /rootfs/app/healthcheck.mjs \
 && printf 'root:x:0:0:root:/root:/sbin/nologin\nmcpuser:x:1000:1000:mcpuser:/app:/sbin/nologin\n' > /rootfs/etc/passwd \
 && printf 'root:x:0:\nmcpuser:x:1000:\n' > /rootfs/etc/group \
 && printf 'hosts: files dns\n' > /rootfs/etc/nsswitch.conf \
 && chmod 1777 /rootfs/tmp && chown 1000:1000 /rootfs/data

# ── node: the Node.js binary and exactly the shared libraries it links ──
# The target platform's image. For a foreign platform this RUN (cp, ldd) runs under QEMU:
# a few seconds, and ldd asks the target's own loader, so the list stays exact when Node
# or Debian change what node links.
FROM ${NODE_IMAGE} AS node
RUN mkdir -p /rootfs/usr/local/bin \
 && cp /usr/local/bin/node /rootfs/usr/local/bin/node \
 && for lib in $(ldd /usr/local/bin/node | grep -o '/[^ ]*'); do cp --parents -L "$lib" /rootfs; done

# ── runtime: no shell, no npm, no package manager; node runs as PID 1 ──
FROM scratch AS runtime
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
ARG SOURCE=https://github.com/example/todo-mcp-pipeline
LABEL org.opencontainers.image.title="todo-mcp" \
      org.opencontainers.image.description="Todo MCP server (Streamable HTTP on :3000/mcp) fronting the todo backend" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="MIT"
COPY --from=node /rootfs/ /
COPY --from=build /rootfs/ /
ENV NODE_ENV=production \
    MCP_SERVER_PORT=3000
WORKDIR /app
# Numeric, so Kubernetes runAsNonRoot can verify it without reading /etc/passwd.
USER 1000:1000
EXPOSE 3000
# Every 10 s; a probe slower than 3 s counts as a failure; 3 failures in a row mark it
# unhealthy (30 s of trouble); failures in the first 10 s while it boots do not count, and
# during those 10 s it probes every second (Docker ≥ 25), so it turns healthy about 1 s after start.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --start-interval=1s --retries=3 \
  CMD ["/usr/local/bin/node", "/app/healthcheck.mjs"]
# node is PID 1 and the app handles SIGTERM/SIGINT itself (drains, then exits 0).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/node"]
CMD ["/app/mcp.mjs"]

# ── backend: the same runtime, serving the REST API on :8000 with data on a volume ──
FROM runtime AS backend
LABEL org.opencontainers.image.title="todo-backend" \
      org.opencontainers.image.description="Todo REST backend (port 8000) for the todo MCP server"
ENV PORT=8000 \
    DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --start-interval=1s --retries=3 \
  CMD ["/usr/local/bin/node", "/app/healthcheck.mjs", "8000"]
CMD ["/app/backend.mjs"]

# The default target (last stage): the MCP server.
FROM runtime AS mcp-server
# The MCP Registry lists the image only if it names the server it belongs to. The name has one
# home, server.json: the pipeline passes it as MCP_SERVER_NAME (by hand: see the top of this file).
ARG MCP_SERVER_NAME=""
LABEL io.modelcontextprotocol.server.name="${MCP_SERVER_NAME}"
