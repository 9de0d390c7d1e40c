/** What a HEALTHCHECK instruction declares, in the units Docker's image config uses (ns). */
export interface Healthcheck {
  test: string[];
  intervalNs?: number;
  timeoutNs?: number;
  startPeriodNs?: number;
  retries?: number;
}

interface Stage {
  name: string | undefined;
  base: string;
  healthcheck: Healthcheck | "NONE" | undefined;
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Parses a Go-style duration (`10s`, `1m30s`, `500ms`) into nanoseconds. */
export function parseDuration(text: string): number {
  let total = 0;
  let rest = text.trim();
  if (!rest) throw new Error("empty duration");
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/.exec(rest);
    if (!m?.[1] || !m[2]) throw new Error(`invalid duration ${JSON.stringify(text)}`);
    total += Number(m[1]) * (UNITS[m[2]] ?? 0);
    rest = rest.slice(m[0].length);
  }
  return Math.round(total);
}

/** Joins continuation lines and drops comments, giving one string per instruction. */
function instructions(dockerfile: string): string[] {
  const out: string[] = [];
  let current = "";
  for (const raw of dockerfile.split(/\r?\n/)) {
    const line = raw.trimEnd();
    // Comment lines are dropped, inside a continuation too (as BuildKit does).
    if (/^\s*#/.test(line)) continue;
    if (line.endsWith("\\")) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim()) out.push(current.trim());
    current = "";
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

function parseHealthcheck(args: string): Healthcheck | "NONE" {
  let rest = args.trim();
  if (/^NONE$/i.test(rest)) return "NONE";
  const hc: Omit<Healthcheck, "test"> = {};
  for (;;) {
    const m = /^--([a-z-]+)=(\S+)\s+/.exec(rest);
    if (!m?.[1] || !m[2]) break;
    const [flag, value] = [m[1], m[2]];
    if (flag === "interval") hc.intervalNs = parseDuration(value);
    else if (flag === "timeout") hc.timeoutNs = parseDuration(value);
    else if (flag === "start-period") hc.startPeriodNs = parseDuration(value);
    else if (flag === "retries") hc.retries = Number(value);
    rest = rest.slice(m[0].length);
  }
  const cmd = /^CMD\s+([\s\S]*)$/i.exec(rest);
  if (!cmd?.[1]) throw new Error(`HEALTHCHECK without CMD: ${args}`);
  const body = cmd[1].trim();
  if (body.startsWith("[")) return { ...hc, test: ["CMD", ...(JSON.parse(body) as string[])] };
  return { ...hc, test: ["CMD-SHELL", body] };
}

/**
 * The HEALTHCHECK in force for a Dockerfile target (the last stage when unset),
 * following `FROM <stage>` inheritance. Undefined when none is declared.
 */
export function healthcheckOf(dockerfile: string, target?: string): Healthcheck | undefined {
  const stages: Stage[] = [];
  for (const ins of instructions(dockerfile)) {
    const m = /^(\w+)\s+([\s\S]*)$/.exec(ins);
    if (!m?.[1]) continue;
    const keyword = m[1].toUpperCase();
    const args = m[2] ?? "";
    if (keyword === "FROM") {
      const from = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(args);
      stages.push({
        name: from?.[2]?.toLowerCase(),
        base: (from?.[1] ?? "").toLowerCase(),
        healthcheck: undefined,
      });
    } else if (keyword === "HEALTHCHECK") {
      const stage = stages.at(-1);
      if (stage) stage.healthcheck = parseHealthcheck(args);
    }
  }
  let stage = target ? stages.find((s) => s.name === target.toLowerCase()) : stages.at(-1);
  if (!stage)
    throw new Error(
      target ? `the Dockerfile has no stage named ${target}` : "the Dockerfile has no FROM",
    );
  for (let depth = 0; stage && depth < stages.length; depth++) {
    if (stage.healthcheck === "NONE") return undefined;
    if (stage.healthcheck) return stage.healthcheck;
    const base: string = stage.base;
    stage = stages.find((s) => s.name === base);
  }
  return undefined;
}

/** Renders a Healthcheck back into a Dockerfile instruction. */
export function healthcheckInstruction(hc: Healthcheck): string {
  const flags: string[] = [];
  const s = (ns: number) => `${ns / 1e9}s`;
  if (hc.intervalNs !== undefined) flags.push(`--interval=${s(hc.intervalNs)}`);
  if (hc.timeoutNs !== undefined) flags.push(`--timeout=${s(hc.timeoutNs)}`);
  if (hc.startPeriodNs !== undefined) flags.push(`--start-period=${s(hc.startPeriodNs)}`);
  if (hc.retries !== undefined) flags.push(`--retries=${hc.retries}`);
  const [kind, ...cmd] = hc.test;
  const body = kind === "CMD-SHELL" ? (cmd[0] ?? "") : JSON.stringify(cmd);
  return `HEALTHCHECK ${flags.join(" ")} CMD ${body}`.replace(/\s+CMD/, " CMD");
}
