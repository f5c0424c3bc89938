// The control plane's memory on disk: a JSON snapshot of every object and the
// resourceVersion counter, rewritten atomically shortly after each change
// (a burst of changes costs one write) and at shutdown, loaded at start so a
// restarted apiserver keeps the lab's objects and allocations.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Store, StoreSnapshot } from './store.ts';

export function loadSnapshot(path: string): StoreSnapshot | undefined {
  if (!existsSync(path)) return undefined;
  const data = JSON.parse(readFileSync(path, 'utf8')) as StoreSnapshot;
  if (typeof data.resourceVersion !== 'number' || !Array.isArray(data.objects)) {
    throw new Error(`${path} is not a control-plane snapshot (no resourceVersion/objects)`);
  }
  return data;
}

export function saveSnapshot(path: string, snap: StoreSnapshot): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(snap));
  renameSync(tmp, path);
}

/** Writes the store to `path` `delayMs` after a change, coalescing bursts. */
export class SnapshotWriter {
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: Store,
    readonly path: string,
    private readonly delayMs = 20,
  ) {
    this.unsubscribe = store.onAnyChange(() => this.schedule());
  }

  private schedule(): void {
    this.dirty = true;
    this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.dirty) return;
    this.dirty = false;
    saveSnapshot(this.path, this.store.snapshot());
  }

  close(): void {
    this.unsubscribe();
    this.flush();
  }
}
