// An informer: the reflector loop of ApiClient.watch feeding a local cache and
// onAdd/onUpdate/onDelete handlers, with hasSynced() true once the first list
// has been delivered — what kube-proxy and the kubelet build their state from.
import type { WatchEvent } from '../k8s/objects.ts';
import type { ListQuery, Watcher, WatchSource } from './watch-types.ts';

export interface InformerHandlers<T> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
  /** Once, after the initial list has been delivered to onAdd. */
  onSynced?(): void;
}

export interface Informer<T> {
  hasSynced(): boolean;
  /** Resolves when hasSynced() becomes true. */
  readonly synced: Promise<void>;
  /** The cached objects. */
  list(): T[];
  /** By "namespace/name" ("/name" or "name" for cluster-scoped objects). */
  get(key: string): T | undefined;
  stop(): void;
  readonly watcher: Watcher;
}

export interface InformerOptions extends ListQuery {
  onError?: (err: Error) => void;
  backoff?: { initial: number; max: number };
}

const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export function informer<T extends { metadata?: { namespace?: string; name?: string } }>(
  client: WatchSource,
  kindPath: string,
  handlers: InformerHandlers<T>,
  opts: InformerOptions = {},
): Informer<T> {
  const cache = new Map<string, T>();
  let synced = false;
  let resolveSynced!: () => void;
  const syncedPromise = new Promise<void>((r) => (resolveSynced = r));
  const report = opts.onError ?? ((e: Error) => console.error(`informer ${kindPath}: ${e.message}`));
  const safely = (f: () => void) => {
    try {
      f();
    } catch (e) {
      report(e as Error);
    }
  };
  const onEvent = (e: WatchEvent<T>) => {
    const k = keyOf(e.object);
    const old = cache.get(k);
    if (e.type === 'DELETED') {
      cache.delete(k);
      safely(() => handlers.onDelete?.(old ?? e.object));
      return;
    }
    cache.set(k, e.object);
    safely(() => (old ? handlers.onUpdate?.(old, e.object) : handlers.onAdd?.(e.object)));
  };
  const watcher = client.watch(kindPath, undefined, onEvent as (e: WatchEvent<unknown>) => void, {
    labelSelector: opts.labelSelector,
    fieldSelector: opts.fieldSelector,
    backoff: opts.backoff,
    onError: opts.onError,
    onSynced: () => {
      synced = true;
      safely(() => handlers.onSynced?.());
      resolveSynced();
    },
  });
  return {
    hasSynced: () => synced,
    synced: syncedPromise,
    list: () => [...cache.values()],
    get: (key) => cache.get(key.includes('/') ? key : `/${key}`),
    stop: () => watcher.stop(),
    watcher,
  };
}
