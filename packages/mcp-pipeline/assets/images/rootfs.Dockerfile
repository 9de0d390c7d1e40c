# debian:bookworm-slim for one platform, from the root filesystem tarball setup
# made with debootstrap (context: rootfs.tar). Built with `--platform`, so the
# image config names the tarball's architecture; ADD unpacks without running
# anything, so no emulation is needed here.
FROM scratch
ADD rootfs.tar /
CMD ["bash"]
