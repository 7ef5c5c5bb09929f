/** A FIFO async mutex: loads and generations on one model run one at a time, in arrival order. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve()

  async run<T>(task: () => Promise<T>): Promise<T> {
    const previous = this.tail
    let release!: () => void
    this.tail = new Promise<void>((resolve) => (release = resolve))
    try {
      await previous
      return await task()
    } finally {
      release()
    }
  }
}
