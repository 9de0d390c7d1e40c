# The Dagger engine for air-gapped machines: Debian's runc, CNI plugins,
# dnsmasq, iptables and tini, plus the engine binaries `npm run setup` built
# from the Go module proxy (context: out/engine, out/dialstdio, out/dnsname,
# out/init, engine.json). Paths match what the engine expects (distconsts).
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
ARG DAGGER_VERSION
RUN set -eux; \
    apt-get update -q; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      runc containernetworking-plugins dnsmasq-base iptables nftables tini ca-certificates \
      git openssh-client pigz isal xz-utils fuse-overlayfs iproute2 procps mount; \
    rm -rf /var/lib/apt/lists/*; \
    mkdir -p /opt/cni/bin /usr/local/bin /etc/dagger /var/lib/dagger /run/dagger; \
    for p in bridge loopback firewall host-local; do ln -s /usr/lib/cni/$p /opt/cni/bin/$p; done; \
    ln -s /usr/sbin/runc /usr/local/bin/runc; \
    : the engine looks for xtables under /usr/bin, Debian installs them in /usr/sbin; \
    for f in /usr/sbin/xtables-*-multi /usr/sbin/iptables* /usr/sbin/ip6tables*; do ln -sf "$f" /usr/bin/; done
COPY out/engine /usr/local/bin/dagger-engine
COPY out/dialstdio /usr/local/bin/dial-stdio
COPY out/dnsname /opt/cni/bin/dnsname
COPY out/init /usr/local/bin/dagger-init
COPY engine.json /etc/dagger/engine.json
RUN ln -s /usr/local/bin/dial-stdio /usr/local/bin/buildctl
LABEL org.opencontainers.image.title="dagger-engine" \
      org.opencontainers.image.version="v${DAGGER_VERSION}" \
      org.opencontainers.image.description="Dagger engine assembled from Debian packages and binaries built from the Go module proxy"
VOLUME /var/lib/dagger
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/dagger-engine"]
