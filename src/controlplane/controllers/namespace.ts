// The namespace controller: a namespace being deleted (phase Terminating) has
// its contents deleted (pods gracefully) and goes itself once nothing is left.
import { API_RESOURCES } from '../resources.ts';
import { onKinds, QueueController } from './queue.ts';

const NAMESPACED = API_RESOURCES.filter((r) => r.namespaced).map((r) => r.kind);

export class NamespaceController extends QueueController {
  readonly name = 'namespace-controller';

  protected override watch(): () => void {
    return onKinds(this.registry.store, ['Namespace', ...NAMESPACED], (e) => {
      const ns = e.kind === 'Namespace' ? e.object.metadata.name! : e.object.metadata.namespace;
      if (ns && (e.kind === 'Namespace' || e.type === 'DELETED')) this.queue.add(ns);
    });
  }

  protected override enqueueExisting(): void {
    for (const ns of this.registry.store.list('Namespace').items) if (ns.metadata.deletionTimestamp) this.queue.add(ns.metadata.name!);
  }

  protected override sync(name: string): void {
    const ns = this.registry.tryGet('Namespace', undefined, name);
    if (!ns?.metadata.deletionTimestamp) return;
    let left = 0;
    for (const kind of NAMESPACED) {
      for (const o of this.registry.store.list(kind, name).items) {
        left++;
        if (!o.metadata.deletionTimestamp) this.registry.delete(kind, name, o.metadata.name!);
      }
    }
    if (left === 0) {
      this.registry.finalizeNamespace(name);
      this.log(`namespace-controller: namespace ${name} deleted`);
    }
  }
}
