// The Deployment controller with the ReplicaSet layer folded in: pods are named
// <deployment>-<pod-template-hash>-<5 chars> and labelled with the hash as
// upstream's ReplicaSets name them, but owned directly by the Deployment.
// Scaling, RollingUpdate (maxSurge/maxUnavailable, old pods go as new ones
// become Ready) and Recreate follow upstream's rules; status counts pods.
import type { Deployment as ApiDeployment, Pod as ApiPod } from '../../k8s/objects.ts';
import { podTemplateHash } from '../naming.ts';
import { rfc3339, type KObj, type Mutable } from '../store.ts';
import { keyFor, onKinds, QueueController, splitKey } from './queue.ts';

type Deployment = Mutable<ApiDeployment>;
type Pod = Mutable<ApiPod>;

export const TEMPLATE_HASH_LABEL = 'pod-template-hash';

export function podIsReady(p: ApiPod): boolean {
  return (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

const isActive = (p: ApiPod) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';

/** Resolves an int-or-percent against `total`: maxSurge rounds up, maxUnavailable down (upstream). */
export function resolveIntOrPercent(v: number | string | undefined, total: number, roundUp: boolean): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const m = v.match(/^(\d+)%$/);
  if (!m) return Number(v) || 0;
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** Upstream's ActivePods order: the pods to remove first come first. */
function deletionOrder(a: ApiPod, b: ApiPod): number {
  const rank = (p: ApiPod) => [
    p.spec?.nodeName ? 1 : 0,
    p.status?.phase === 'Pending' ? 0 : p.status?.phase === 'Running' ? 2 : 1,
    podIsReady(p) ? 1 : 0,
  ];
  const ra = rank(a), rb = rank(b);
  for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i] - rb[i];
  // Newer pods go first.
  const ta = a.metadata?.creationTimestamp ?? '', tb = b.metadata?.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? 1 : -1;
  return (b.metadata?.name ?? '').localeCompare(a.metadata?.name ?? '');
}

export class DeploymentController extends QueueController {
  readonly name = 'deployment-controller';

  protected override watch(): () => void {
    return onKinds(this.registry.store, ['Deployment', 'Pod'], (e) => {
      const o = e.object;
      if (e.kind === 'Deployment') return this.queue.add(keyFor(o.metadata.namespace, o.metadata.name!));
      for (const ref of o.metadata.ownerReferences ?? []) {
        if (ref.kind === 'Deployment' && ref.controller) this.queue.add(keyFor(o.metadata.namespace, ref.name));
      }
    });
  }

  protected override enqueueExisting(): void {
    for (const d of this.registry.store.list('Deployment').items) this.queue.add(keyFor(d.metadata.namespace, d.metadata.name!));
  }

  protected override sync(key: string): void {
    const [ns, name] = splitKey(key);
    const d = this.registry.tryGet('Deployment', ns, name) as Deployment | undefined;
    if (!d || d.metadata?.deletionTimestamp) return;
    const uid = d.metadata!.uid;
    const owned = (this.registry.store.list('Pod', ns).items as Pod[]).filter((p) =>
      (p.metadata?.ownerReferences ?? []).some((r) => r.uid === uid && r.controller),
    );
    const hash = podTemplateHash(d.spec!.template, d.status?.collisionCount ?? 0);
    const active = owned.filter(isActive);
    const fresh = active.filter((p) => p.metadata?.labels?.[TEMPLATE_HASH_LABEL] === hash);
    const stale = active.filter((p) => p.metadata?.labels?.[TEMPLATE_HASH_LABEL] !== hash);
    const desired = d.spec!.replicas ?? 1;

    if (!d.spec!.paused) {
      if (d.spec!.strategy?.type === 'Recreate') {
        if (stale.length) this.remove(stale, stale.length, key, 'recreate');
        // Recreate waits until every old pod is gone, terminating ones included.
        else if (!owned.some((p) => p.metadata?.labels?.[TEMPLATE_HASH_LABEL] !== hash)) this.scaleTo(d, fresh, desired, hash);
      } else if (!stale.length) this.scaleTo(d, fresh, desired, hash);
      else this.rollingStep(d, fresh, stale, desired, hash);
    }
    this.writeStatus(d, ns!, name, hash);
  }

  private scaleTo(d: Deployment, pods: Pod[], desired: number, hash: string): void {
    const key = keyFor(d.metadata!.namespace, d.metadata!.name!);
    if (pods.length < desired) this.createPods(d, desired - pods.length, hash);
    else if (pods.length > desired) this.remove(pods, pods.length - desired, key, `scaled down to ${desired}`);
  }

  /** One step of a RollingUpdate, as upstream's reconcileNewReplicaSet + reconcileOldReplicaSets. */
  private rollingStep(d: Deployment, fresh: Pod[], stale: Pod[], desired: number, hash: string): void {
    const ru = d.spec!.strategy?.rollingUpdate;
    const surge = resolveIntOrPercent(ru?.maxSurge ?? '25%', desired, true);
    let unavailable = resolveIntOrPercent(ru?.maxUnavailable ?? '25%', desired, false);
    if (surge === 0 && unavailable === 0) unavailable = 1;
    const total = fresh.length + stale.length;
    const toCreate = Math.min(desired - fresh.length, desired + surge - total);
    if (toCreate > 0) this.createPods(d, toCreate, hash);

    const minAvailable = desired - unavailable;
    const freshUnavailable = fresh.filter((p) => !podIsReady(p)).length;
    let budget = total - minAvailable - freshUnavailable;
    if (budget <= 0) return;
    const key = keyFor(d.metadata!.namespace, d.metadata!.name!);
    // Unhealthy old pods go first: removing them costs no availability.
    const unhealthy = stale.filter((p) => !podIsReady(p));
    const n1 = Math.min(budget, unhealthy.length);
    this.remove(unhealthy, n1, key, 'rolling update (unready old pod)');
    budget -= n1;
    const healthyOld = stale.filter(podIsReady);
    const available = fresh.filter(podIsReady).length + healthyOld.length;
    const n2 = Math.min(budget, available - minAvailable, healthyOld.length);
    if (n2 > 0) this.remove(healthyOld, n2, key, 'rolling update');
  }

  private createPods(d: Deployment, n: number, hash: string): void {
    const t = d.spec!.template;
    const meta = d.metadata!;
    const rsName = `${meta.name}-${hash}`;
    for (let i = 0; i < n; i++) {
      const pod = this.registry.create('Pod', meta.namespace, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          generateName: `${rsName}-`,
          namespace: meta.namespace,
          labels: { ...t.metadata?.labels, [TEMPLATE_HASH_LABEL]: hash },
          ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: meta.name!, uid: meta.uid!, controller: true, blockOwnerDeletion: true }],
        },
        spec: structuredClone(t.spec),
      });
      this.log(`deployment-controller: ${meta.namespace}/${meta.name}: created pod ${pod.metadata.name}`);
    }
  }

  private remove(pods: Pod[], n: number, key: string, why: string): void {
    for (const p of [...pods].sort(deletionOrder).slice(0, n)) {
      try {
        this.registry.delete('Pod', p.metadata!.namespace, p.metadata!.name!);
        this.log(`deployment-controller: ${key}: deleting pod ${p.metadata!.name} (${why})`);
      } catch (e) {
        if ((e as { code?: number }).code !== 404) throw e;
      }
    }
  }

  private writeStatus(d: Deployment, ns: string, name: string, hash: string): void {
    // Recount after this sync's own changes.
    const owned = (this.registry.store.list('Pod', ns).items as Pod[]).filter((p) =>
      (p.metadata?.ownerReferences ?? []).some((r) => r.uid === d.metadata!.uid && r.controller),
    );
    const active = owned.filter(isActive);
    const desired = d.spec!.replicas ?? 1;
    const ready = active.filter(podIsReady).length;
    const updated = active.filter((p) => p.metadata?.labels?.[TEMPLATE_HASH_LABEL] === hash).length;
    const unavailableAllowed = d.spec!.strategy?.type === 'Recreate' ? 0 : resolveIntOrPercent(d.spec!.strategy?.rollingUpdate?.maxUnavailable ?? '25%', desired, false);
    const rsName = `${name}-${hash}`;
    const complete = updated === desired && ready >= desired && active.length === desired;
    const old = d.status ?? {};
    const cond = (type: string, status: 'True' | 'False', reason: string, message: string) => {
      const prev = (old.conditions ?? []).find((c) => c.type === type);
      const at = prev && prev.status === status ? prev.lastTransitionTime : rfc3339(this.now());
      const updatedAt = prev && prev.status === status && prev.reason === reason ? prev.lastUpdateTime : rfc3339(this.now());
      return { type, status, lastUpdateTime: updatedAt, lastTransitionTime: at, reason, message };
    };
    const availableOk = ready >= desired - unavailableAllowed;
    const status: Record<string, unknown> = {
      observedGeneration: d.metadata!.generation,
      ...(active.length ? { replicas: active.length } : {}),
      ...(updated ? { updatedReplicas: updated } : {}),
      ...(ready ? { readyReplicas: ready, availableReplicas: ready } : {}),
      ...(desired - ready > 0 ? { unavailableReplicas: desired - ready } : {}),
      conditions: [
        availableOk
          ? cond('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.')
          : cond('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'),
        complete
          ? cond('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`)
          : cond('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`),
      ],
      ...(old.collisionCount ? { collisionCount: old.collisionCount } : {}),
    };
    if (JSON.stringify(status) === JSON.stringify(old)) return;
    this.registry.mutate('Deployment', ns, name, (o: KObj) => {
      o.status = status;
    }, { subresource: 'status' });
  }
}
