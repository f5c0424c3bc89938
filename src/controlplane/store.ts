// The object store behind the lab apiserver: what etcd plus the watch cache are
// for a real one. One global resourceVersion counter (etcd's revision), uid,
// creationTimestamp and generation; watchers get ADDED/MODIFIED/DELETED with the
// object at that version; a bounded per-kind history lets a watch resume from
// an old resourceVersion, and answers "too old" (410 Expired) past it.
import { randomUUID } from 'node:crypto';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { alreadyExists, conflict, expired, notFound } from './status.ts';
import { resourceFor } from './resources.ts';

/** Any stored object. Stored objects are deep-frozen: clone before changing. */
export interface KObj {
  apiVersion: string;
  kind: string;
  metadata: Mutable<ObjectMeta>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [field: string]: any;
}

/** kubernetes-types marks every field readonly; server-side code works on its own copies. */
export type Mutable<T> = T extends (infer U)[] ? Mutable<U>[] : T extends object ? { -readonly [K in keyof T]: Mutable<T[K]> } : T;

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: StoreEventType;
  kind: string;
  /** The object at this event's resourceVersion (for DELETED: its last state, at the deletion revision). */
  object: KObj;
  /** The version before this event (MODIFIED, DELETED); lets filtered watches see objects enter or leave. */
  prev?: KObj;
  rv: number;
}

export type StoreListener = (e: StoreEvent) => void;

export interface StoreOptions {
  /** Events kept per kind for resuming watches (upstream's watch cache keeps ~100 per resource by default). */
  historyLimit?: number;
  now?: () => Date;
}

export interface StoreSnapshot {
  resourceVersion: number;
  objects: KObj[];
}

function keyOf(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

export function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** RFC 3339 with second precision, as metav1.Time serialises. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Everything but metadata and status: a change here bumps metadata.generation. */
function specPart(o: KObj): string {
  const { metadata: _m, status: _s, resourceVersion: _r, ...rest } = o;
  return JSON.stringify(rest);
}

function sameIgnoringVersion(a: KObj, b: KObj): boolean {
  const strip = (o: KObj) => ({ ...o, metadata: { ...o.metadata, resourceVersion: undefined } });
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

export class Store {
  private rv = 0;
  /** The revision this store started from (0, or a restored snapshot's): nothing older is kept. */
  private baseRV = 0;
  private readonly objects = new Map<string, Map<string, KObj>>();
  private readonly history = new Map<string, { events: StoreEvent[]; compactedRV: number }>();
  private readonly listeners = new Map<string, Set<StoreListener>>();
  private readonly anyListeners = new Set<StoreListener>();
  private readonly historyLimit: number;
  private readonly now: () => Date;

  constructor(opts: StoreOptions = {}) {
    this.historyLimit = opts.historyLimit ?? 1000;
    this.now = opts.now ?? (() => new Date());
  }

  get resourceVersion(): number {
    return this.rv;
  }

  private bucket(kind: string): Map<string, KObj> {
    let b = this.objects.get(kind);
    if (!b) this.objects.set(kind, (b = new Map()));
    return b;
  }

  private hist(kind: string) {
    let h = this.history.get(kind);
    if (!h) this.history.set(kind, (h = { events: [], compactedRV: this.baseRV }));
    return h;
  }

  get(kind: string, namespace: string | undefined, name: string): KObj | undefined {
    return this.objects.get(kind)?.get(keyOf(namespace, name));
  }

  /** Objects of a kind (optionally one namespace), in etcd key order. */
  list(kind: string, namespace?: string): { items: KObj[]; resourceVersion: string } {
    const items = [...(this.objects.get(kind)?.entries() ?? [])]
      .filter(([, o]) => namespace === undefined || o.metadata.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => o);
    return { items, resourceVersion: String(this.rv) };
  }

  kinds(): string[] {
    return [...this.objects.keys()];
  }

  create(obj: KObj): KObj {
    const meta = obj.metadata;
    const r = resourceFor(obj.kind);
    if (this.get(obj.kind, meta.namespace, meta.name!)) throw alreadyExists(r, meta.name!);
    const rv = ++this.rv;
    const stored = deepFreeze({
      ...obj,
      metadata: {
        ...meta,
        uid: meta.uid ?? randomUUID(),
        resourceVersion: String(rv),
        creationTimestamp: meta.creationTimestamp ?? rfc3339(this.now()),
        ...('spec' in obj ? { generation: 1 } : {}),
      },
    });
    this.bucket(obj.kind).set(keyOf(meta.namespace, meta.name!), stored);
    this.emit({ type: 'ADDED', kind: obj.kind, object: stored, rv });
    return stored;
  }

  /**
   * Replaces an object. With `expectRV` (the caller's metadata.resourceVersion)
   * a stale write is a 409 Conflict. A write that changes nothing is dropped
   * and returns the current object, as upstream's GuaranteedUpdate does.
   */
  update(obj: KObj, expectRV?: string): KObj {
    const meta = obj.metadata;
    const r = resourceFor(obj.kind);
    const cur = this.get(obj.kind, meta.namespace, meta.name!);
    if (!cur) throw notFound(r, meta.name!);
    if (expectRV && expectRV !== cur.metadata.resourceVersion) throw conflict(r, meta.name!);
    const next: KObj = {
      ...obj,
      metadata: {
        ...meta,
        uid: cur.metadata.uid,
        creationTimestamp: cur.metadata.creationTimestamp,
        resourceVersion: cur.metadata.resourceVersion,
        ...(cur.metadata.generation !== undefined
          ? { generation: cur.metadata.generation + (specPart(obj) !== specPart(cur) ? 1 : 0) }
          : {}),
      },
    };
    if (sameIgnoringVersion(next, cur)) return cur;
    const rv = ++this.rv;
    next.metadata.resourceVersion = String(rv);
    const stored = deepFreeze(next);
    this.bucket(obj.kind).set(keyOf(meta.namespace, meta.name!), stored);
    this.emit({ type: 'MODIFIED', kind: obj.kind, object: stored, prev: cur, rv });
    return stored;
  }

  delete(kind: string, namespace: string | undefined, name: string, expectRV?: string): KObj {
    const r = resourceFor(kind);
    const cur = this.get(kind, namespace, name);
    if (!cur) throw notFound(r, name);
    if (expectRV && expectRV !== cur.metadata.resourceVersion) throw conflict(r, name);
    const rv = ++this.rv;
    this.bucket(kind).delete(keyOf(namespace, name));
    const last = deepFreeze({ ...cur, metadata: { ...cur.metadata, resourceVersion: String(rv) } });
    this.emit({ type: 'DELETED', kind, object: last, prev: cur, rv });
    return last;
  }

  private emit(e: StoreEvent): void {
    const h = this.hist(e.kind);
    h.events.push(e);
    if (h.events.length > this.historyLimit) h.compactedRV = h.events.shift()!.rv;
    for (const l of [...(this.listeners.get(e.kind) ?? [])]) l(e);
    for (const l of [...this.anyListeners]) l(e);
  }

  /**
   * Watches one kind. With `fromRV`, first replays the kept events after it
   * (synchronously, before returning), then follows live changes. Throws a 410
   * Expired ApiError when events after `fromRV` are no longer kept, or when
   * `fromRV` is from the future (a restarted server that lost its last writes).
   */
  watch(kind: string, fromRV: number | undefined, listener: StoreListener): () => void {
    if (fromRV !== undefined) {
      const h = this.hist(kind);
      if (fromRV < h.compactedRV || fromRV > this.rv) throw expired(fromRV, h.compactedRV);
      for (const e of h.events) if (e.rv > fromRV) listener(e);
    }
    let set = this.listeners.get(kind);
    if (!set) this.listeners.set(kind, (set = new Set()));
    set.add(listener);
    return () => set!.delete(listener);
  }

  /** Every change of every kind, live (persistence, logging). */
  onAnyChange(listener: StoreListener): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  snapshot(): StoreSnapshot {
    const objects = [...this.objects.values()].flatMap((b) => [...b.values()]);
    return { resourceVersion: this.rv, objects };
  }

  /** Loads a snapshot into an empty store; history starts empty (older watches get 410 and relist). */
  restore(snap: StoreSnapshot): void {
    for (const o of snap.objects) this.bucket(o.kind).set(keyOf(o.metadata.namespace, o.metadata.name!), deepFreeze(o));
    this.rv = this.baseRV = Math.max(this.rv, snap.resourceVersion);
    for (const h of this.history.values()) h.compactedRV = this.rv;
  }
}
