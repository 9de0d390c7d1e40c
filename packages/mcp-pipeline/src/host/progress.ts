import { formatDuration } from "./terminal.js";

/** Where progress goes: a terminal (rewritten in place) or a log (one line per event). */
export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressOptions {
  /** Off a terminal, repeat the current note with the elapsed time when nothing was printed for this long. */
  heartbeatMs?: number;
  /** How often the line is checked (and, on a terminal, redrawn). */
  tickMs?: number;
}

/** Off a terminal a long step prints at least this often, so CI logs show it is alive. */
export const HEARTBEAT_MS = 25_000;

/**
 * One progress line per step. On a terminal the line is rewritten in place
 * with the current note and the elapsed time, every second. Elsewhere (CI
 * logs) each note is printed as it comes, and a heartbeat line repeats the
 * current note with the elapsed time whenever nothing was printed for
 * `heartbeatMs`, so a Go build that runs for minutes is visibly alive.
 */
export class ProgressLine {
  private readonly started = Date.now();
  private readonly prefix: string;
  private readonly out: ProgressOutput;
  private readonly heartbeatMs: number;
  private readonly timer: NodeJS.Timeout;
  private lastPrinted = Date.now();
  private note = "";

  constructor(prefix: string, out: ProgressOutput = process.stderr, options: ProgressOptions = {}) {
    this.prefix = prefix;
    this.out = out;
    this.heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
    this.timer = setInterval(() => this.tick(), options.tickMs ?? 1000);
    // A progress line never keeps the process alive on its own.
    this.timer.unref?.();
    if (out.isTTY) this.redraw();
  }

  update(note: string): void {
    this.note = note;
    if (this.out.isTTY) this.redraw();
    else this.printLine(`${this.prefix} … ${note} (${this.elapsed()})`);
  }

  finish(status: string): number {
    const elapsed = Date.now() - this.started;
    clearInterval(this.timer);
    const line = `${this.prefix} ${status} (${formatDuration(elapsed)})`;
    if (this.out.isTTY) this.out.write(`\r\x1b[2K${line}\n`);
    else this.out.write(`${line}\n`);
    return elapsed;
  }

  /** A line that must stay on screen (a warning), printed above the progress line. */
  persist(text: string): void {
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[2K${text}\n`);
      this.redraw();
    } else this.printLine(text);
  }

  private tick(): void {
    if (this.out.isTTY) this.redraw();
    else if (Date.now() - this.lastPrinted >= this.heartbeatMs) {
      const note = this.note ? ` ${this.note}` : "";
      this.printLine(`${this.prefix} …${note} (still running, ${this.elapsed()})`);
    }
  }

  private printLine(line: string): void {
    this.out.write(`${line}\n`);
    this.lastPrinted = Date.now();
  }

  private elapsed(): string {
    return formatDuration(Date.now() - this.started);
  }

  private redraw(): void {
    const note = this.note ? ` … ${this.note}` : " …";
    this.out.write(`\r\x1b[2K${this.prefix}${note} ${this.elapsed()}`);
  }
}
