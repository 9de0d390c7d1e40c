/** Counts running operations so shutdown can wait for them to finish. */
export class InFlight {
  #count = 0;
  #waiters: (() => void)[] = [];

  /** Runs `work`, counting it as in flight until it settles. */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.#count += 1;
    try {
      return await work();
    } finally {
      this.#count -= 1;
      if (this.#count === 0) for (const wake of this.#waiters.splice(0)) wake();
    }
  }

  get count(): number {
    return this.#count;
  }

  /** Resolves `true` once nothing is in flight, or `false` if `deadlineMs` passes first. */
  idle(deadlineMs: number): Promise<boolean> {
    if (this.#count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), deadlineMs);
      timer.unref();
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
