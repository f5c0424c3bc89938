// The generic REST semantics between the HTTP layer (and in-process
// controllers) and the store: create/get/list/update/patch/delete with the
// per-kind strategies, status subresources, optimistic concurrency, graceful
// pod deletion, finalizers, namespaces that must exist, and dry runs.
import { randomSuffix } from './naming.ts';
import { applyPatch, type PatchType } from './patch.ts';
import { apiVersionOf, resourceFor, type ApiResource } from './resources.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { ServiceStrategy } from './service-strategy.ts';
import { alreadyExists, badRequest, conflict, field, forbidden, invalid, notFound } from './status.ts';
import { rfc3339, type KObj, type Store } from './store.ts';
import { makeStrategies, type Strategy } from './strategies.ts';

export interface ListQuery {
  labelSelector?: string | null;
  fieldSelector?: string | null;
}

export interface WriteOptions {
  subresource?: 'status';
  dryRun?: boolean;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface RegistryOptions {
  store: Store;
  services: ServiceStrategy;
  now?: () => Date;
  rand?: () => number;
}

type Body = Record<string, unknown>;

const clone = <T>(o: T): T => structuredClone(o) as T;

export class Registry {
  readonly store: Store;
  readonly services: ServiceStrategy;
  private readonly strategies: Record<string, Strategy>;
  private readonly now: () => Date;
  private readonly rand: () => number;
  /** Pending removals of gracefully deleted pods, by uid. */
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();

  constructor(opts: RegistryOptions) {
    this.store = opts.store;
    this.services = opts.services;
    this.strategies = makeStrategies(opts.services);
    this.now = opts.now ?? (() => new Date());
    this.rand = opts.rand ?? Math.random;
  }

  private strategy(kind: string): Strategy {
    return this.strategies[kind];
  }

  private ns(r: ApiResource, namespace: string | undefined): string | undefined {
    return r.namespaced ? namespace || 'default' : undefined;
  }

  get(kind: string, namespace: string | undefined, name: string): KObj {
    const r = resourceFor(kind);
    const o = this.store.get(kind, this.ns(r, namespace), name);
    if (!o) throw notFound(r, name);
    return o;
  }

  tryGet(kind: string, namespace: string | undefined, name: string): KObj | undefined {
    return this.store.get(kind, this.ns(resourceFor(kind), namespace), name);
  }

  /** `namespace` undefined lists across namespaces. */
  list(kind: string, namespace?: string, q: ListQuery = {}): { items: KObj[]; resourceVersion: string } {
    const labels = parseLabelSelector(q.labelSelector);
    const fields = parseFieldSelector(q.fieldSelector, kind);
    const { items, resourceVersion } = this.store.list(kind, resourceFor(kind).namespaced ? namespace : undefined);
    return { items: items.filter((o) => labels(o.metadata.labels) && fields(o)), resourceVersion };
  }

  private checkNamespace(r: ApiResource, namespace: string | undefined, name: string): void {
    if (!r.namespaced) return;
    const ns = this.store.get('Namespace', undefined, namespace!);
    if (!ns) throw notFound(resourceFor('Namespace'), namespace!);
    if (ns.metadata.deletionTimestamp) {
      throw forbidden(r, name, `unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  create(kind: string, namespace: string | undefined, body: Body, opts: WriteOptions = {}): KObj {
    const r = resourceFor(kind);
    const obj = clone(body) as KObj;
    obj.apiVersion = apiVersionOf(r);
    obj.kind = r.kind;
    const meta = (obj.metadata ??= {});
    const ns = this.ns(r, namespace ?? meta.namespace);
    if (r.namespaced && meta.namespace && namespace && meta.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (ns) meta.namespace = ns;
    else delete meta.namespace;
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomSuffix(5, this.rand);
    if (!meta.name) throw invalid(r, '', [field.required('metadata.name', 'name or generateName is required')]);
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) delete meta[k];
    this.checkNamespace(r, ns, meta.name);
    const st = this.strategy(kind);
    st.prepareForCreate?.(obj);
    const txn = st.beginCreate?.(obj);
    try {
      const nameErr = st.nameError(meta.name);
      const errs = [...(nameErr ? [field.invalid('metadata.name', meta.name, nameErr)] : []), ...(st.validate?.(obj) ?? [])];
      if (errs.length) throw invalid(r, meta.name, errs);
      if (opts.dryRun) {
        if (this.store.get(kind, ns, meta.name)) throw alreadyExists(r, meta.name);
        txn?.revert();
        return obj;
      }
      const stored = this.store.create(obj);
      txn?.commit();
      return stored;
    } catch (e) {
      txn?.revert();
      throw e;
    }
  }

  /**
   * PUT. The main resource keeps the stored status; the status subresource
   * keeps everything but status. A body without metadata.resourceVersion is an
   * unconditional update (upstream allows that for these kinds).
   */
  update(kind: string, namespace: string | undefined, name: string, body: Body, opts: WriteOptions = {}): KObj {
    const r = resourceFor(kind);
    const old = this.get(kind, namespace, name);
    const obj = clone(body) as KObj;
    const meta = (obj.metadata ??= {});
    if (meta.name && meta.name !== name) {
      throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    }
    if (r.namespaced && meta.namespace && meta.namespace !== old.metadata.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const expectRV = meta.resourceVersion;
    if (expectRV && expectRV !== old.metadata.resourceVersion) throw conflict(r, name);
    let next: KObj;
    let txn;
    const st = this.strategy(kind);
    if (opts.subresource === 'status') {
      if (!r.hasStatus) throw badRequest(`${r.plural} have no status subresource`);
      next = { ...clone(old), status: obj.status };
    } else {
      next = {
        ...obj,
        apiVersion: apiVersionOf(r),
        kind: r.kind,
        metadata: {
          ...meta,
          name,
          namespace: old.metadata.namespace,
          // Set only by the server: deletion and ownership bookkeeping survive a client's PUT.
          deletionTimestamp: old.metadata.deletionTimestamp,
          deletionGracePeriodSeconds: old.metadata.deletionGracePeriodSeconds,
        },
      };
      if (!next.metadata.namespace) delete next.metadata.namespace;
      if (!next.metadata.deletionTimestamp) delete next.metadata.deletionTimestamp;
      if (next.metadata.deletionGracePeriodSeconds === undefined) delete next.metadata.deletionGracePeriodSeconds;
      st.prepareForUpdate?.(next, old);
      txn = st.beginUpdate?.(next, old);
    }
    try {
      if (opts.subresource !== 'status') {
        const errs = st.validateUpdate?.(next, old) ?? st.validate?.(next) ?? [];
        if (errs.length) throw invalid(r, name, errs);
      }
      if (opts.dryRun) {
        txn?.revert();
        return next;
      }
      const stored = this.store.update(next, expectRV);
      txn?.commit();
      // The last finalizer removed from an object being deleted lets it go.
      if (stored.metadata.deletionTimestamp && !stored.metadata.finalizers?.length && kind !== 'Pod' && kind !== 'Namespace') {
        return this.remove(kind, stored);
      }
      return stored;
    } catch (e) {
      txn?.revert();
      throw e;
    }
  }

  patch(kind: string, namespace: string | undefined, name: string, patch: unknown, type: PatchType, opts: WriteOptions = {}): KObj {
    const old = this.get(kind, namespace, name);
    const patched = applyPatch(clone(old) as unknown, patch, type) as KObj;
    if (!patched || typeof patched !== 'object') throw badRequest('the patch did not produce an object');
    // A patch that names a resourceVersion is conditional; otherwise it applies to whatever is current.
    const patchRV = (patch as KObj)?.metadata?.resourceVersion;
    if (!patchRV) patched.metadata = { ...patched.metadata, resourceVersion: undefined };
    return this.update(kind, namespace, name, patched, opts);
  }

  /**
   * DELETE. Pods on a node go gracefully: deletionTimestamp is set, the kubelet
   * stops the pod and confirms with gracePeriodSeconds=0, or the pod goes when
   * its grace period ends. Objects with finalizers wait for them. Others go now.
   */
  delete(kind: string, namespace: string | undefined, name: string, opts: DeleteOptions = {}): KObj {
    const r = resourceFor(kind);
    const obj = this.get(kind, namespace, name);
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== obj.metadata.uid) {
      throw conflict(r, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion) {
      throw conflict(r, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`);
    }
    if (opts.dryRun) return obj;
    if (opts.propagationPolicy === 'Orphan') this.orphanDependents(obj);
    if (kind === 'Namespace') return this.beginNamespaceDeletion(obj);
    const grace = this.strategy(kind).gracePeriod?.(obj, opts.gracePeriodSeconds ?? undefined);
    if (grace !== undefined && grace > 0) return this.deleteGracefully(kind, obj, grace);
    if (obj.metadata.finalizers?.length) return this.markDeleting(obj, 0);
    return this.remove(kind, obj);
  }

  private markDeleting(obj: KObj, grace: number): KObj {
    if (obj.metadata.deletionTimestamp && (obj.metadata.deletionGracePeriodSeconds ?? 0) <= grace) return obj;
    const at = new Date(this.now().getTime() + grace * 1000);
    return this.store.update({ ...obj, metadata: { ...obj.metadata, deletionTimestamp: rfc3339(at), deletionGracePeriodSeconds: grace } });
  }

  private deleteGracefully(kind: string, obj: KObj, grace: number): KObj {
    const marked = this.markDeleting(obj, grace);
    // deletionTimestamp has whole seconds; a fresh mark waits the full grace period rather than up to a second less.
    const remaining = marked === obj ? Math.max(0, Date.parse(marked.metadata.deletionTimestamp!) - this.now().getTime()) : grace * 1000;
    this.scheduleRemoval(kind, marked, remaining);
    return marked;
  }

  private scheduleRemoval(kind: string, obj: KObj, afterMs: number): void {
    const uid = obj.metadata.uid!;
    clearTimeout(this.graceTimers.get(uid));
    const t = setTimeout(() => {
      this.graceTimers.delete(uid);
      const cur = this.store.get(kind, obj.metadata.namespace, obj.metadata.name!);
      if (cur && cur.metadata.uid === uid) this.remove(kind, cur);
    }, afterMs);
    t.unref?.();
    this.graceTimers.set(uid, t);
  }

  /** Re-arms grace-period timers after a restart. */
  resumeGracefulDeletions(): void {
    for (const pod of this.store.list('Pod').items) {
      if (!pod.metadata.deletionTimestamp) continue;
      this.scheduleRemoval('Pod', pod, Math.max(0, Date.parse(pod.metadata.deletionTimestamp) - this.now().getTime()));
    }
  }

  private remove(kind: string, obj: KObj): KObj {
    clearTimeout(this.graceTimers.get(obj.metadata.uid!));
    this.graceTimers.delete(obj.metadata.uid!);
    const gone = this.store.delete(kind, obj.metadata.namespace, obj.metadata.name!);
    this.strategy(kind).afterDelete?.(gone);
    return gone;
  }

  private orphanDependents(owner: KObj): void {
    for (const kind of this.store.kinds()) {
      for (const o of this.store.list(kind).items) {
        const refs = o.metadata.ownerReferences ?? [];
        if (!refs.some((ref) => ref.uid === owner.metadata.uid)) continue;
        this.store.update({ ...o, metadata: { ...o.metadata, ownerReferences: refs.filter((ref) => ref.uid !== owner.metadata.uid) } });
      }
    }
  }

  /** Namespace deletion: Terminating now; the namespace controller empties it and removes it. */
  private beginNamespaceDeletion(ns: KObj): KObj {
    if (ns.metadata.deletionTimestamp) return ns;
    return this.store.update({
      ...ns,
      metadata: { ...ns.metadata, deletionTimestamp: rfc3339(this.now()) },
      status: { ...ns.status, phase: 'Terminating' },
    });
  }

  /** Removes a namespace object for good (namespace controller, once it is empty). */
  finalizeNamespace(name: string): void {
    const ns = this.store.get('Namespace', undefined, name);
    if (ns?.metadata.deletionTimestamp) this.remove('Namespace', ns);
  }

  deleteCollection(kind: string, namespace: string | undefined, q: ListQuery, opts: DeleteOptions = {}): KObj[] {
    return this.list(kind, namespace, q).items.map((o) => this.delete(kind, o.metadata.namespace, o.metadata.name!, opts));
  }

  /** The scheduler's binding: sets spec.nodeName on an unscheduled pod (pods/binding upstream). */
  bindPod(namespace: string, name: string, nodeName: string): KObj {
    const pod = this.get('Pod', namespace, name);
    if (pod.spec?.nodeName) throw conflict(resourceFor('Pod'), name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
    const conditions = [
      ...(pod.status?.conditions ?? []).filter((c: { type: string }) => c.type !== 'PodScheduled'),
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339(this.now()) },
    ];
    return this.store.update({ ...pod, spec: { ...pod.spec, nodeName }, status: { ...pod.status, conditions } });
  }

  /** Read-modify-write of one object for in-process controllers (retries on a racing write). */
  mutate(kind: string, namespace: string | undefined, name: string, change: (o: KObj) => void, opts: WriteOptions = {}): KObj {
    const cur = clone(this.get(kind, namespace, name));
    change(cur);
    return this.update(kind, namespace, name, cur, opts);
  }

  close(): void {
    for (const t of this.graceTimers.values()) clearTimeout(t);
    this.graceTimers.clear();
  }
}
