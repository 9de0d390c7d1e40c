import { afterAll, describe, expect, it } from "vitest";
import { pid1Uids } from "../../../src/ci/checks/non-root.js";
import { docker, removeContainer } from "../../../src/ci/docker/docker.js";
import { contextVariant, gateRuns, skipAllBut } from "../pipeline-harness.js";
import { exitsAtOnce, noSuchUser } from "../variants.js";

// Each variant is the project's Dockerfile with one defect, built by the real pipeline; the
// control is the same run without the variant, and it publishes.
const gate = gateRuns(skipAllBut("non-root"));

describe("the non-root gate", () => {
  it("passes the project's image, which then publishes (the control for every run below)", async () => {
    const run = await gate.expectControlPublishes();
    expect(run.report.checks.find((c) => c.id === "non-root")?.summary).toMatch(/runs as UID 1000/);
  });

  it("fails an image whose USER is root, saying how to set a numeric user", async () => {
    const run = await gate.run(
      contextVariant("root", (t) => t.replace("USER 1000:1000", "USER root")),
    );
    const result = await gate.expectTripped(run, "non-root");
    expect(result.summary).toBe("the image runs as root (UID 0)");
    expect(result.details.join("\n")).toMatch(/USER 1000:1000/);
  });

  it("fails an image whose USER names nobody in its /etc/passwd", async () => {
    const run = await gate.run(noSuchUser());
    const result = await gate.expectTripped(run, "non-root");
    expect(result.summary).toBe(
      "USER nosuchuser does not resolve to a UID in the image's /etc/passwd",
    );
    expect(result.details.join("\n")).toMatch(/numeric USER/);
  });

  it("fails an image whose USER is 1000 but whose setuid-root entrypoint runs as root", async () => {
    const run = await gate.run(
      contextVariant("setuid-root", (t) =>
        t.replace(
          "cp /usr/local/bin/node /rootfs/usr/local/bin/node",
          "cp /usr/local/bin/node /rootfs/usr/local/bin/node && chmod u+s /rootfs/usr/local/bin/node",
        ),
      ),
    );
    const result = await gate.expectTripped(run, "non-root");
    expect(result.summary).toBe(
      "the container's process runs as root (real UID 1000, effective UID 0)",
    );
    expect(result.details).toContain("image config USER: 1000:1000");
    expect(result.details.join("\n")).toMatch(/chmod u-s/);
  });

  it("fails an image whose entrypoint exits at once, since no running process shows its UID", async () => {
    const run = await gate.run(exitsAtOnce());
    const result = await gate.expectTripped(run, "non-root");
    expect(result.summary).toMatch(/^the container did not stay up long enough to read its UID/);
  });
});

// The check's PID 1 inspection, pointed at containers started here: a user given at `docker run`
// overrides the image's USER, which is how a runtime can still start the image as root.
describe("pid1Uids", () => {
  const containers: string[] = [];
  afterAll(async () => {
    for (const id of containers) await removeContainer(id);
  });

  /** A container of the base image (present wherever setup ran) that stays up. */
  async function started(user: string): Promise<string> {
    const id = (
      await docker(["run", "-d", "--user", user, "node:24-bookworm-slim", "sleep", "300"])
    ).trim();
    containers.push(id);
    return id;
  }

  it("reads root's ids from a container started with --user 0", async () => {
    expect(await pid1Uids(await started("0"))).toEqual({ real: 0, effective: 0, saved: 0 });
  });

  it("reads UID 1000 from a container started with --user 1000", async () => {
    expect(await pid1Uids(await started("1000"))).toEqual({
      real: 1000,
      effective: 1000,
      saved: 1000,
    });
  });

  it("reads nothing from a container that has stopped", async () => {
    const id = await started("1000");
    await docker(["stop", "--time", "0", id]);
    expect(await pid1Uids(id)).toBeUndefined();
  });
});
