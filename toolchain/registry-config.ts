/**
 * The local registries. The bridge address is how containers, the Docker
 * daemon and the Dagger engine all reach a registry listening on the host.
 */
export const REGISTRY_BRIDGE_HOST = "172.17.0.1";
export const REGISTRY_PORTS = {
  /** Anonymous pull mirror seeded with the base images. */
  mirror: 5000,
  /** htpasswd-protected registry that stands in for GHCR. */
  auth: 5001,
} as const;
export const MIRROR_ADDRESS = `${REGISTRY_BRIDGE_HOST}:${REGISTRY_PORTS.mirror}`;
export const AUTH_REGISTRY_ADDRESS = `${REGISTRY_BRIDGE_HOST}:${REGISTRY_PORTS.auth}`;
