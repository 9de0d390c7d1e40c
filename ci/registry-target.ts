import { toolchainPaths } from "../toolchain/paths.js";
import { readRegistryAuth } from "../toolchain/steps/registry.js";
import type { Config } from "./config.js";
import { EnvironmentError } from "./errors.js";
import type { PublishTarget } from "./stages/publish.js";

/** Where to publish: the configured registry, or the local authenticated one from `npm run setup`. */
export function publishTarget(config: Config, env: NodeJS.ProcessEnv): PublishTarget {
  const { address, repository, username } = config.registry;
  const local = readRegistryAuth(toolchainPaths(env));
  const password = env.REGISTRY_PASSWORD ?? env.GITHUB_TOKEN;
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
      "no registry configured and no local registry: set REGISTRY/--repository, or run `npm run setup`",
    );
  }
  return {
    address: local.address,
    repository: repository ?? `${local.address}/${config.image.name}`,
    username: local.username,
    password: local.password,
  };
}
