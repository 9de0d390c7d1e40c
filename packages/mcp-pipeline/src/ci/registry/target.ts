import type { Config } from "../config/schema.js";
import { EnvironmentError } from "../errors.js";
import type { RunEnvironment } from "../request.js";

/** Where and as whom to publish. */
export interface PublishTarget {
  /** Registry host for the login, e.g. `ghcr.io`. */
  address: string;
  /** Repository without a tag, e.g. `ghcr.io/owner/todo-mcp`. */
  repository: string;
  username: string;
  /** The registry password or token; turned into a Dagger secret at once. */
  password: string;
}

/**
 * Where to publish: the configured registry with `REGISTRY_PASSWORD` (or
 * `GITHUB_TOKEN`), or, when none is configured, the local authenticated
 * registry `mcp-pipeline setup` provides. Throws an EnvironmentError naming what is
 * missing, before anything is built.
 */
export function publishTarget(
  config: Config,
  env: Pick<RunEnvironment, "registryPassword" | "localRegistry">,
): PublishTarget {
  const { address, repository, username } = config.registry;
  const local = env.localRegistry;
  const password = env.registryPassword;
  if (repository && address && (password || address !== local?.address)) {
    if (!password) {
      throw new EnvironmentError(
        `publishing to ${repository} needs a password: set REGISTRY_PASSWORD (or GITHUB_TOKEN on GitHub Actions)`,
      );
    }
    if (!username) {
      throw new EnvironmentError(
        `publishing to ${repository} needs a user: set REGISTRY_USERNAME or --username`,
      );
    }
    return { address, repository, username, password };
  }
  // No registry configured, or the local one without explicit credentials: use what setup wrote.
  if (!local) {
    throw new EnvironmentError(
      "no registry configured and no local registry: set REGISTRY/--repository, or run `mcp-pipeline setup`",
    );
  }
  return {
    address: local.address,
    repository: repository ?? `${local.address}/${config.image.name}`,
    username: local.username,
    password: local.password,
  };
}
