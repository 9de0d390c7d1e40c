# gcr.io/distroless/cc-debian12 for air-gapped machines: glibc, libgcc,
# libstdc++, libssl3, CA certificates and tzdata from Debian's packages, no
# shell and no package manager. Built by `npm run setup`.
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE} AS rootfs
RUN set -eux; \
    apt-get update -q; \
    apt-get install -y -q --no-install-recommends ca-certificates; \
    mkdir -p /rootfs /debs; cd /debs; \
    apt-get download base-files netbase tzdata libc6 libgcc-s1 libstdc++6 libssl3 zlib1g; \
    for deb in *.deb; do dpkg-deb -x "$deb" /rootfs; done; \
    rm -rf /rootfs/usr/share/doc /rootfs/usr/share/man /rootfs/usr/share/info /rootfs/usr/share/lintian \
           /rootfs/usr/share/locale /rootfs/usr/share/gcc /rootfs/usr/share/gdb /rootfs/bin /rootfs/usr/bin /rootfs/sbin /rootfs/usr/sbin; \
    mkdir -p /rootfs/etc/ssl/certs /rootfs/tmp /rootfs/home/nonroot /rootfs/root; \
    chmod 1777 /rootfs/tmp; chown 65532:65532 /rootfs/home/nonroot; \
    cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ca-certificates.crt; \
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > /rootfs/etc/passwd; \
    printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' > /rootfs/etc/group; \
    printf 'hosts: files dns\n' > /rootfs/etc/nsswitch.conf; \
    test ! -e /rootfs/bin/sh && test ! -e /rootfs/usr/bin/sh

FROM scratch
COPY --from=rootfs /rootfs/ /
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
