/** Docker's two image stores: the graph drivers' (classic) and containerd's snapshotters. */
export type ImageStore = "classic" | "containerd";

/**
 * The image store an engine uses, from `docker info`'s `DriverStatus` pairs: the containerd
 * store names its snapshotter there (`driver-type io.containerd.snapshotter.v1`).
 */
export function imageStoreOf(driverStatus: readonly (readonly string[])[] | null): ImageStore {
  return (driverStatus ?? []).some(
    ([name, value]) => name === "driver-type" && value?.startsWith("io.containerd.snapshotter"),
  )
    ? "containerd"
    : "classic";
}
