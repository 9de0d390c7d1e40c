/**
 * The local registries. The bridge address is how containers, the Docker
 * daemon and the Dagger engine all reach a registry listening on the host.
 * The mirror and auth ports are defaults: setup moves a registry to a free port
 * when its default is taken, and records the ports it uses in the toolchain
 * state, which everything else reads.
 */
export const REGISTRY_BRIDGE_HOST = "172.17.0.1";
export const REGISTRY_PORTS = {
  /** Anonymous pull mirror seeded with the base images. */
  mirror: 5000,
  /** htpasswd-protected registry that stands in for GHCR. */
  auth: 5001,
  /**
   * Kept free for a token-auth registry that tests start (as GHCR answers:
   * a Bearer challenge and a token endpoint); the engine knows it is plain HTTP.
   */
  tokenAuth: 5002,
} as const;
export const TOKEN_REGISTRY_ADDRESS = `${REGISTRY_BRIDGE_HOST}:${REGISTRY_PORTS.tokenAuth}`;
