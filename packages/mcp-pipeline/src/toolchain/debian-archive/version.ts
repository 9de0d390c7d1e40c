/**
 * Which Debian package versions count as a tool's pinned upstream version.
 *
 * A Debian version is `[epoch:]upstream[-revision]`. The revision (`-3`, `-2+b5`) is Debian's
 * packaging of the same upstream release, and a repack suffix on the upstream part (`+ds`,
 * `+ds1`, `+dfsg4`, `~ds1`) only says files were removed from the upstream tarball (vendored
 * code, non-free files). Both are dropped; what is left must equal the pin exactly. Anything
 * else — `2.40.3+git20251101`, `2.40.3~rc1`, `1:2.40.3` with another upstream — is a different
 * source and does not match.
 */
const REPACK = /[+~](?:ds|dfsg)\d*$/;

/** The upstream release a Debian version packages, with epoch, revision and repack suffix removed. */
export function upstreamVersion(debianVersion: string): string {
  const noEpoch = debianVersion.replace(/^\d+:/, "");
  const dash = noEpoch.lastIndexOf("-");
  const upstream = dash > 0 ? noEpoch.slice(0, dash) : noEpoch;
  return upstream.replace(REPACK, "");
}

/** True when a Debian package version is exactly the pinned upstream version. */
export function matchesPin(debianVersion: string, pin: string): boolean {
  return upstreamVersion(debianVersion) === pin;
}

/**
 * The lowest glibc a package declares it needs (`libc6 (>= 2.34)` in `Depends`), or undefined
 * when it declares none. The binary itself is checked too (elf-glibc.ts); this lets setup skip a
 * download it could not use.
 */
export function libcFloor(depends: string | undefined): string | undefined {
  const match = /(?:^|,)\s*libc6\s*\(\s*>=\s*([0-9.]+)[^)]*\)/.exec(depends ?? "");
  return match?.[1];
}

/** Compares dotted numeric versions (`2.34` < `2.36` < `2.38`); missing parts count as 0. */
export function compareDotted(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}
