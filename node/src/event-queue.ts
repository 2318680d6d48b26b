/**
 * The `for await` side of an event source: events pushed by the source wait in a queue until the
 * loop pulls them. A realtime channel's `EventStream` and a gateway socket's
 * `GatewaySocketEvents` are this with their own way to stop listening (`detach`).
 */
export abstract class EventQueue<T> implements AsyncIterableIterator<T> {
  private readonly queue: T[] = [];
  private waiter: ((r: IteratorResult<T>) => void) | null = null;
  private ended = false;

  /** `timeoutMs`: the loop ends after that long without an event. */
  protected constructor(private readonly timeoutMs?: number) {}

  /** Stops listening at the source; called once, when the iteration ends. */
  protected abstract detach(): void;

  /** @internal */
  push(value: T): void {
    if (this.ended) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w({ done: false, value });
    } else this.queue.push(value);
  }

  /** The source has nothing more: the loop ends once the queued events are taken. */
  protected finish(): void {
    if (!this.ended) {
      this.ended = true;
      this.detach();
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.queue.length) return Promise.resolve({ done: false, value: this.queue.shift() as T });
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      this.waiter = (r) => {
        if (timer) clearTimeout(timer);
        resolve(r);
      };
      if (this.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.waiter = null;
          void this.return().then(resolve);
        }, this.timeoutMs);
      }
    });
  }

  /** Stops collecting events. */
  async return(): Promise<IteratorResult<T>> {
    this.finish();
    const w = this.waiter;
    this.waiter = null;
    w?.({ done: true, value: undefined });
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
