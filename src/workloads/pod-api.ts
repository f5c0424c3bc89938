// The kubelet's few API calls (PodApi) over the control plane's client: an
// informer on the node's pods (fieldSelector spec.nodeName, list then watch,
// relist on 410), PUT of the status subresource, and the final DELETE with
// gracePeriodSeconds=0. Behind PodApi so the kubelet is tested with a fake.
import type { Pod } from '../k8s/objects.ts';
import { ApiClient, ApiError, informer } from '../controlplane/client.ts';
import type { PodApi } from './pod-worker.ts';
import type { PodStatus } from './pod-status.ts';

const podPath = (p: Pod) => `/api/v1/namespaces/${encodeURIComponent(p.metadata?.namespace ?? 'default')}/pods/${encodeURIComponent(p.metadata?.name ?? '')}`;

export function createPodApi(api: string | ApiClient, log: (line: string) => void = (l) => console.error(l)): PodApi {
  const client = typeof api === 'string' ? new ApiClient(api) : api;
  return {
    async watchPods(nodeName, h) {
      const inf = informer<Pod>(
        client,
        '/api/v1/pods',
        { onAdd: (p) => h.onAdd(p), onUpdate: (_old, p) => h.onUpdate(p), onDelete: (p) => h.onDelete(p) },
        { fieldSelector: `spec.nodeName=${nodeName}`, onError: (e) => log(`pod watch (${client.where}): ${e.message}; retrying`) },
      );
      await inf.synced;
      return { stop: () => inf.stop() };
    },

    async putStatus(pod: Pod, status: PodStatus) {
      // No resourceVersion: the kubelet owns pod status, its write is unconditional (as upstream allows for pods).
      const body: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: pod.metadata?.name, namespace: pod.metadata?.namespace, uid: pod.metadata?.uid }, status };
      await client.updateStatus(podPath(pod), body);
    },

    async deletePod(pod: Pod) {
      try {
        // The uid precondition keeps a new pod of the same name safe from this delete.
        await client.request('DELETE', podPath(pod), {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          gracePeriodSeconds: 0,
          preconditions: { uid: pod.metadata?.uid },
        });
      } catch (err) {
        // Gone already (404), or a different pod by now (409 precondition): nothing of ours to delete.
        if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
      }
    },
  };
}
