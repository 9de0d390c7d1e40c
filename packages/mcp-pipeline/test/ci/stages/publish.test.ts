import type { Client, Container } from "@dagger.io/dagger";
import { describe, expect, it } from "vitest";
import { publish } from "../../../src/ci/stages/publish.js";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;
const target = {
  address: "registry.test",
  repository: "registry.test/app",
  username: "u",
  password: "p",
};

/**
 * The two Dagger calls publish makes, answering each `publish` with the next digest — how the
 * engine behaves when it writes an index's entries in another order (another digest).
 */
function engine(digests: string[]) {
  const calls: { ref: string; variants: number }[] = [];
  const authed = {
    publish: async (ref: string, opts: { platformVariants?: unknown[] }) => {
      calls.push({ ref, variants: opts.platformVariants?.length ?? 0 });
      const digest = digests.shift();
      if (!digest) throw new Error("more publishes than expected");
      return `${ref}@${digest}`;
    },
  };
  const container = { withRegistryAuth: () => authed } as unknown as Container;
  const client = { setSecret: () => ({}) } as unknown as Client;
  return { calls, container, client };
}

describe("publish", () => {
  it("publishes a tag again until its index has the first tag's digest", async () => {
    const e = engine([A, B, B, A, A]);
    const variant = {} as Container;
    const result = await publish(e.container, target, ["1", "2", "3"], [variant], e.client);
    expect(result).toEqual({
      digest: A,
      refs: [`registry.test/app:1@${A}`, `registry.test/app:2@${A}`, `registry.test/app:3@${A}`],
    });
    expect(e.calls.map((c) => c.ref.split(":").at(-1))).toEqual(["1", "2", "2", "2", "3"]);
    expect(e.calls.every((c) => c.variants === 1)).toBe(true);
  });

  it("gives up after 20 tries and says which tags disagree", async () => {
    const e = engine([A, ...Array<string>(20).fill(B)]);
    const failed = publish(e.container, target, ["1", "2"], [{} as Container], e.client);
    await expect(failed).rejects.toThrow(
      `tags resolved to different digests: registry.test/app:1@${A}, registry.test/app:2@${B}`,
    );
    expect(e.calls).toHaveLength(21);
  });

  it("never repeats a single-platform publish: a different digest there is a real disagreement", async () => {
    const e = engine([A, B]);
    await expect(publish(e.container, target, ["1", "2"], [], e.client)).rejects.toThrow(
      /different digests/,
    );
    expect(e.calls).toHaveLength(2);
  });

  it("refuses to publish without a tag", async () => {
    const e = engine([]);
    await expect(publish(e.container, target, [], [], e.client)).rejects.toThrow("no tags");
  });
});
