// Clips the capabilities in an OCI runtime spec (config.json of a bundle, or
// the process.json of `runc exec`) to this machine's bounding set. Some VMs
// drop a capability such as CAP_SYS_RESOURCE from every process; runc then
// refuses `docker run --privileged` ("unable to apply caps"), which is how the
// Dagger CLI starts its engine. Used by runc-bounded.sh; plain Node, no deps.
import { readFileSync, writeFileSync } from "node:fs";

const NAMES = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
];

const status = readFileSync("/proc/self/status", "utf8");
const bounding = BigInt(`0x${/CapBnd:\s*([0-9a-f]+)/.exec(status)?.[1] ?? "0"}`);
const allowed = new Set(NAMES.filter((_, bit) => (bounding >> BigInt(bit)) & 1n));

const file = process.argv[2];
if (!file) process.exit(0);
const spec = JSON.parse(readFileSync(file, "utf8"));
const caps = spec.process ? spec.process.capabilities : spec.capabilities;
if (caps) {
  for (const set of Object.keys(caps)) {
    if (Array.isArray(caps[set]))
      caps[set] = caps[set].filter((c) => !NAMES.includes(c) || allowed.has(c));
  }
  writeFileSync(file, JSON.stringify(spec));
}
