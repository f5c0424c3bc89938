// The shapes a watch is made of: the list query, the options of the reflector
// loop and its handle. Their own module so the informer (built on a watch)
// and the client (which runs one) both point down to it instead of at each other.
import type { WatchEvent } from '../k8s/objects.ts';

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WatchOptions extends ListQuery {
  /** Once: after the first list was delivered (started from a resourceVersion: after the first event or relist). */
  onSynced?: () => void;
  /** Connection problems while retrying (default: silent; the loop keeps going). */
  onError?: (err: Error) => void;
  /** Reconnect backoff (ms): starts at `initial`, doubles up to `max`. */
  backoff?: { initial: number; max: number };
}

export interface Watcher {
  stop(): void;
  /** The last resourceVersion seen (list, event or bookmark). */
  readonly resourceVersion: string;
  readonly synced: boolean;
  /** Resolves once the loop has stopped. */
  readonly done: Promise<void>;
}

/** What an informer needs from a client: the reflector loop (ApiClient.watch). */
export interface WatchSource {
  watch(path: string, resourceVersion: string | undefined, onEvent: (e: WatchEvent<unknown>) => void, opts?: WatchOptions): Watcher;
}
