import { styleText } from "node:util";
import prettyMilliseconds from "pretty-ms";

/** A CI run (`CI=true`/`1`, or GitHub Actions): nobody watches the terminal, if there is one. */
export function isCi(env: Readonly<Record<string, string | undefined>>): boolean {
  return env.CI === "true" || env.CI === "1" || env.GITHUB_ACTIONS === "true";
}

/** One duration format everywhere: `420ms`, `12.3s`, `2m 5.1s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "–";
  return prettyMilliseconds(ms);
}

/** The colour a status word is shown in: green for success, red for failure, yellow otherwise. */
export function statusColor(status: string): "green" | "red" | "yellow" {
  if (/^(passed|pass|ok|done|succeeded|success|cached)$/i.test(status)) return "green";
  if (/^(failed|fail|error|failure)$/i.test(status)) return "red";
  return "yellow";
}

/**
 * `text` in `color` when `target` shows colours: a stream that is a TTY, with
 * neither `NO_COLOR` nor `NODE_DISABLE_COLORS` set (`FORCE_COLOR` forces them),
 * as Node decides; or `true`/`false` when the caller already knows.
 */
export function paint(
  color: "green" | "red" | "yellow" | "bold" | "dim",
  text: string,
  target: NodeJS.WriteStream | boolean = process.stderr,
): string {
  if (typeof target === "boolean")
    return target ? styleText(color, text, { validateStream: false }) : text;
  return styleText(color, text, { stream: target });
}

export interface TableColumn {
  title: string;
  align?: "left" | "right";
}

/**
 * A plain-text table: columns padded to their widest cell, two spaces apart;
 * a last column aligned left is free text and never padded. `style` decorates a padded
 * cell (e.g. colours) after widths are measured, so escapes never skew them.
 */
export function renderTable(
  columns: readonly TableColumn[],
  rows: readonly (readonly string[])[],
  style: (row: number, column: number, padded: string) => string = (_r, _c, padded) => padded,
): string[] {
  const widths = columns.map((column, i) =>
    Math.max(column.title.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const render = (cells: readonly string[], row: number): string =>
    cells
      .map((value, i) => {
        const last = i === cells.length - 1 && columns[i]?.align !== "right";
        const width = widths[i] ?? 0;
        const padded = last
          ? value
          : columns[i]?.align === "right"
            ? value.padStart(width)
            : value.padEnd(width);
        return row < 0 ? padded : style(row, i, padded);
      })
      .join("  ")
      .trimEnd();
  return [
    render(
      columns.map((c) => c.title),
      -1,
    ),
    ...rows.map((row, i) => render(row, i)),
  ];
}
