import { describe, expect, it } from "vitest";
import { Config } from "../../../src/ci/config/schema.js";
import { EnvironmentError } from "../../../src/ci/errors.js";
import { publishTarget } from "../../../src/ci/registry/target.js";

const local = { address: "172.17.0.1:5001", username: "pipeline", password: "setup-secret" };
const config = (registry: Record<string, unknown> = {}) => {
  const parsed = Config.parse({ image: { name: "todo-mcp" }, registry });
  return { ...parsed, image: { ...parsed.image, name: "todo-mcp" } };
};

describe("publishTarget", () => {
  it("publishes to setup's local registry with setup's credentials when nothing is configured", () => {
    expect(publishTarget(config(), { localRegistry: local, registryPassword: undefined })).toEqual({
      ...local,
      repository: "172.17.0.1:5001/todo-mcp",
    });
  });

  it("publishes to a configured registry with the configured user and password", () => {
    const target = publishTarget(
      config({ address: "ghcr.io", repository: "ghcr.io/o/todo-mcp", username: "bot" }),
      { localRegistry: local, registryPassword: "token" },
    );
    expect(target).toEqual({
      address: "ghcr.io",
      repository: "ghcr.io/o/todo-mcp",
      username: "bot",
      password: "token",
    });
  });

  it("uses an explicit password for the local registry's address rather than setup's", () => {
    const target = publishTarget(
      config({ address: local.address, repository: `${local.address}/other`, username: "ci" }),
      { localRegistry: local, registryPassword: "explicit" },
    );
    expect(target).toMatchObject({
      username: "ci",
      password: "explicit",
      repository: `${local.address}/other`,
    });
  });

  it("keeps setup's credentials for the local registry's address when no password is given", () => {
    const target = publishTarget(
      config({ address: local.address, repository: `${local.address}/other` }),
      { localRegistry: local, registryPassword: undefined },
    );
    expect(target).toEqual({ ...local, repository: `${local.address}/other` });
  });

  it("refuses a remote registry without a password or a user, saying what to set", () => {
    const remote = config({
      address: "ghcr.io",
      repository: "ghcr.io/o/todo-mcp",
      username: "bot",
    });
    expect(() =>
      publishTarget(remote, { localRegistry: local, registryPassword: undefined }),
    ).toThrow(
      new EnvironmentError(
        "publishing to ghcr.io/o/todo-mcp needs a password: set REGISTRY_PASSWORD (or GITHUB_TOKEN on GitHub Actions)",
      ),
    );
    const anonymous = config({ address: "ghcr.io", repository: "ghcr.io/o/todo-mcp" });
    expect(() => publishTarget(anonymous, { localRegistry: local, registryPassword: "t" })).toThrow(
      "needs a user: set REGISTRY_USERNAME or --username",
    );
  });

  it("refuses to guess when there is neither a configured nor a local registry", () => {
    expect(() =>
      publishTarget(config(), { localRegistry: undefined, registryPassword: undefined }),
    ).toThrow("no registry configured and no local registry");
  });
});
