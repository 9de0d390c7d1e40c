import { formatDuration } from "./terminal.js";

/**
 * One progress line per step. On a terminal the line is rewritten in place
 * with the current note and elapsed time; elsewhere (CI logs) notes are
 * printed as they come so a long step is visibly alive.
 */
export class ProgressLine {
  private readonly started = Date.now();
  private readonly prefix: string;
  private readonly out: NodeJS.WriteStream;
  private timer: NodeJS.Timeout | undefined;
  private note = "";

  constructor(prefix: string, out: NodeJS.WriteStream = process.stderr) {
    this.prefix = prefix;
    this.out = out;
    if (out.isTTY) {
      this.timer = setInterval(() => this.redraw(), 1000);
      this.redraw();
    }
  }

  update(note: string): void {
    this.note = note;
    if (this.out.isTTY) this.redraw();
    else
      this.out.write(`${this.prefix} … ${note} (${formatDuration(Date.now() - this.started)})\n`);
  }

  finish(status: string): number {
    const elapsed = Date.now() - this.started;
    if (this.timer) clearInterval(this.timer);
    const line = `${this.prefix} ${status} (${formatDuration(elapsed)})`;
    if (this.out.isTTY) this.out.write(`\r\x1b[2K${line}\n`);
    else this.out.write(`${line}\n`);
    return elapsed;
  }

  private redraw(): void {
    const note = this.note ? ` … ${this.note}` : " …";
    this.out.write(`\r\x1b[2K${this.prefix}${note} ${formatDuration(Date.now() - this.started)}`);
  }
}
