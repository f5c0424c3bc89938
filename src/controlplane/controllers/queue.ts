// A controller's work queue (client-go's workqueue, reduced): keys are
// deduplicated, processed on the next turn of the event loop so a burst of
// changes costs one sync, and a failed sync is retried with backoff.
import type { Registry } from '../registry.ts';
import type { Store, StoreEvent } from '../store.ts';

export type Log = (line: string) => void;

export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly retries = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private scheduled: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly sync: (key: string) => void,
    private readonly log: Log,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    this.scheduled ??= setImmediate(() => this.flush());
  }

  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.add(key);
    }, ms);
    t.unref?.();
    this.timers.add(t);
  }

  private flush(): void {
    this.scheduled = undefined;
    const keys = [...this.pending];
    this.pending.clear();
    for (const key of keys) {
      if (this.stopped) return;
      try {
        this.sync(key);
        this.retries.delete(key);
      } catch (e) {
        const n = (this.retries.get(key) ?? 0) + 1;
        this.retries.set(key, n);
        const delay = Math.min(5000, 50 * 2 ** n);
        this.log(`${this.name}: sync ${key} failed (retry ${n} in ${delay}ms): ${(e as Error).message}`);
        this.addAfter(key, delay);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.scheduled) clearImmediate(this.scheduled);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

/** "namespace/name", or "name" for cluster-scoped objects. */
export function keyFor(ns: string | undefined, name: string): string {
  return ns ? `${ns}/${name}` : name;
}

export function splitKey(key: string): [string | undefined, string] {
  const i = key.indexOf('/');
  return i < 0 ? [undefined, key] : [key.slice(0, i), key.slice(i + 1)];
}

/** Subscribes to the store's changes of some kinds; returns the unsubscribe function. */
export function onKinds(store: Store, kinds: string[], handler: (e: StoreEvent) => void): () => void {
  const set = new Set(kinds);
  return store.onAnyChange((e) => {
    if (set.has(e.kind)) handler(e);
  });
}

export interface Controller {
  readonly name: string;
  start(): void;
  stop(): void;
}

/**
 * A controller of the registry's objects whose syncs run from one WorkQueue fed by
 * store events: subclasses say what they watch, what is already waiting at start,
 * and what a sync does.
 */
export abstract class QueueController implements Controller {
  abstract readonly name: string;
  private workQueue?: WorkQueue;
  private unsubscribe?: () => void;

  constructor(
    protected readonly registry: Registry,
    protected readonly log: Log,
    /** The clock status timestamps come from (tests pass a fixed one). */
    protected readonly now: () => Date = () => new Date(),
  ) {}

  /** Made on first use: a subclass's `name` is only set once this constructor has run. */
  protected get queue(): WorkQueue {
    return (this.workQueue ??= new WorkQueue(this.name, (key) => this.sync(key), this.log));
  }

  /** Subscribes to the events that enqueue keys; returns the unsubscribe function. */
  protected abstract watch(): () => void;

  /** Enqueues the work already waiting at start (also after a restart). */
  protected enqueueExisting(): void {}

  protected abstract sync(key: string): void;

  start(): void {
    this.unsubscribe = this.watch();
    this.enqueueExisting();
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue.stop();
  }
}
