// The scheduler, reduced to what a three-node lab needs: a pod without
// spec.nodeName goes to a Ready, schedulable node whose labels satisfy its
// nodeSelector (kubernetes.io/hostname included), preferring the node running
// the fewest pods, ties broken by name. A pod with spec.nodeName set is left
// alone, as upstream's scheduler leaves it to the kubelet.
import type { K8sNode, Pod } from '../../k8s/objects.ts';
import { rfc3339, type KObj } from '../store.ts';
import { keyFor, onKinds, QueueController, splitKey } from './queue.ts';

const isTerminal = (p: Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

export function nodeIsReady(n: K8sNode): boolean {
  return (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export interface Placement {
  node?: string;
  /** Why no node fits, in the scheduler's words. */
  reason?: string;
}

/** Pure choice of a node for a pod, given the nodes and the pods already placed. */
export function choosePlacement(pod: Pod, nodes: K8sNode[], pods: Pod[]): Placement {
  const selector = pod.spec?.nodeSelector ?? {};
  const counts = new Map<string, number>();
  for (const p of pods) {
    const n = p.spec?.nodeName;
    if (n && !p.metadata?.deletionTimestamp && !isTerminal(p)) counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  let notReady = 0, unschedulable = 0, mismatch = 0;
  const fits = nodes.filter((n) => {
    if (!nodeIsReady(n)) return (notReady++, false);
    if (n.spec?.unschedulable) return (unschedulable++, false);
    const labels = n.metadata?.labels ?? {};
    if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) return (mismatch++, false);
    return true;
  });
  if (!fits.length) {
    const parts = [
      mismatch && `${mismatch} node(s) didn't match Pod's node affinity/selector`,
      notReady && `${notReady} node(s) had untolerated taint {node.kubernetes.io/not-ready: }`,
      unschedulable && `${unschedulable} node(s) were unschedulable`,
    ].filter(Boolean);
    const total = nodes.length;
    const reason = `0/${total} nodes are available${parts.length ? `: ${parts.join(', ')}` : ''}. preemption: 0/${total} nodes are available: ${total} Preemption is not helpful for scheduling.`;
    return { reason };
  }
  fits.sort((a, b) => (counts.get(a.metadata!.name!) ?? 0) - (counts.get(b.metadata!.name!) ?? 0) || a.metadata!.name!.localeCompare(b.metadata!.name!));
  return { node: fits[0].metadata!.name! };
}

export class Scheduler extends QueueController {
  readonly name = 'scheduler';

  protected override watch(): () => void {
    return onKinds(this.registry.store, ['Pod', 'Node'], (e) => {
      if (e.kind === 'Node') this.enqueueExisting();
      else if (e.type !== 'DELETED' && !e.object.spec?.nodeName) this.queue.add(keyFor(e.object.metadata.namespace, e.object.metadata.name!));
      // A pod leaving a node frees room that an unschedulable pod may be waiting for.
      else if (e.type === 'DELETED') this.enqueueExisting();
    });
  }

  /** Every pending pod: at start, and whenever room may have appeared. */
  protected override enqueueExisting(): void {
    for (const p of this.registry.store.list('Pod').items) {
      if (!p.spec?.nodeName && !p.metadata.deletionTimestamp) this.queue.add(keyFor(p.metadata.namespace, p.metadata.name!));
    }
  }

  protected override sync(key: string): void {
    const [ns, name] = splitKey(key);
    const pod = this.registry.tryGet('Pod', ns, name) as Pod | undefined;
    if (!pod || pod.spec?.nodeName || pod.metadata?.deletionTimestamp) return;
    const nodes = this.registry.store.list('Node').items as K8sNode[];
    const placement = choosePlacement(pod, nodes, this.registry.store.list('Pod').items as Pod[]);
    if (placement.node) {
      this.registry.bindPod(ns!, name, placement.node);
      this.log(`scheduler: assigned ${key} to ${placement.node}`);
      return;
    }
    const cond = (pod.status?.conditions ?? []).find((c) => c.type === 'PodScheduled');
    if (cond?.status === 'False' && cond.message === placement.reason) return;
    this.log(`scheduler: ${key} is unschedulable: ${placement.reason}`);
    this.registry.mutate('Pod', ns, name, (o: KObj) => {
      const others = (o.status?.conditions ?? []).filter((c: { type: string }) => c.type !== 'PodScheduled');
      o.status = {
        ...o.status,
        conditions: [...others, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: placement.reason, lastProbeTime: null, lastTransitionTime: rfc3339(this.now()) }],
      };
    }, { subresource: 'status' });
  }
}
