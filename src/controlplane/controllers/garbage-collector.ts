// The garbage collector, background propagation only: when an owner is gone,
// objects whose ownerReferences name its uid are deleted (a Deployment's pods,
// a Service's EndpointSlices), pods gracefully as any delete would.
import type { KObj } from '../store.ts';
import { QueueController } from './queue.ts';

export class GarbageCollector extends QueueController {
  readonly name = 'garbage-collector';

  protected override watch(): () => void {
    return this.registry.store.onAnyChange((e) => {
      if (e.type === 'DELETED') this.queue.add('sweep');
    });
  }

  protected override enqueueExisting(): void {
    // After a restart, owners may have gone while we were down.
    this.queue.add('sweep');
  }

  /** One key ("sweep"): every pass looks at every object. */
  protected override sync(): void {
    const store = this.registry.store;
    const alive = new Set<string>();
    const all: [string, KObj][] = [];
    for (const kind of store.kinds()) {
      for (const o of store.list(kind).items) {
        alive.add(o.metadata.uid!);
        all.push([kind, o]);
      }
    }
    for (const [kind, o] of all) {
      const refs = o.metadata.ownerReferences ?? [];
      if (!refs.length || o.metadata.deletionTimestamp) continue;
      // Upstream deletes a dependent only when all its owners are gone.
      if (refs.some((r) => alive.has(r.uid))) continue;
      try {
        this.registry.delete(kind, o.metadata.namespace, o.metadata.name!);
        this.log(`garbage-collector: deleting ${kind.toLowerCase()} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name} (owner ${refs[0].kind} ${refs[0].name} is gone)`);
      } catch (e) {
        if ((e as { code?: number }).code !== 404) throw e;
      }
    }
  }
}
