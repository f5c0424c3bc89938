// svclab's kubelet: one per node, running inside the node's network
// namespace. Watches the pods bound to its node and gives each a PodWorker
// (sandbox, containers, probes, status, teardown). On start it adopts the
// pods a previous kubelet left running and removes sandboxes of pods that
// are gone. Stopping the kubelet leaves pods running, as upstream does.
import type { Pod } from '../k8s/objects.ts';
import { namespacedName } from '../k8s/objects.ts';
import { resolveImage, KNOWN_IMAGES } from '../lab/images.ts';
import { cniAdd, cniDel, type CniResult } from '../cni/plugins.ts';
import { checkNetnsPropagation, listSandboxes, removeSandbox, type Cni } from './sandbox.ts';
import { killSandboxProcesses } from './containers.ts';
import { PodWorker, type KubeletOptions, type PodApi, type WorkerEnv } from './pod-worker.ts';
import { createPodApi } from './pod-api.ts';

export type { KubeletOptions, PodApi } from './pod-worker.ts';

/** How often each pod is looked at (exits, back-off, due probes). */
const TICK_MS = 500;

/** The real CNI (src/cni/plugins.ts), run as children of the kubelet, i.e. inside the node. */
export const realCni: Cni = {
  add: (a) => cniAdd(a),
  del: (a) => cniDel({ ...a, prevResult: a.prevResult as CniResult | undefined }),
};

export interface Kubelet {
  /** Stops watching and probing; pods keep running (a later kubelet adopts them). */
  stop(): Promise<void>;
  /** The pod workers by "ns/name" (tests and `svclab` diagnostics). */
  readonly workers: ReadonlyMap<string, PodWorker>;
  /** Resolves when every queued pod step has run (tests). */
  settled(): Promise<void>;
}

export interface KubeletDeps {
  api?: PodApi;
  cni?: Cni;
  log?: (line: string) => void;
  /** Skips the /run/netns propagation check (tests that run in a throwaway mount namespace). */
  skipPropagationCheck?: boolean;
}

export async function startKubelet(opts: KubeletOptions, deps: KubeletDeps = {}): Promise<Kubelet> {
  if (!deps.skipPropagationCheck) checkNetnsPropagation();
  const log = deps.log ?? ((line: string) => console.log(`${new Date().toISOString()} kubelet ${opts.nodeName}: ${line}`));
  const api = deps.api ?? createPodApi(opts.api);
  const env: WorkerEnv = {
    opts,
    api,
    cni: deps.cni ?? realCni,
    resolveImage,
    knownImages: KNOWN_IMAGES,
    nodeBinary: process.execPath,
    log,
  };
  const workers = new Map<string, PodWorker>();

  const retire = (w: PodWorker, deleteFromApi: boolean) => {
    w.terminationQueued = true;
    return w.enqueue('terminate', () => w.terminate(deleteFromApi)).then(() => {
      if (workers.get(`${w.ns}/${w.name}`) === w) workers.delete(`${w.ns}/${w.name}`);
    });
  };

  const onPod = (pod: Pod) => {
    const key = namespacedName(pod.metadata);
    let w = workers.get(key);
    if (w && w.uid !== pod.metadata?.uid) {
      // Same name, new pod (a StatefulSet-style replacement): the old one goes first.
      const old = w;
      if (!old.terminationQueued) void retire(old, false);
      const next = (w = new PodWorker(pod, env));
      workers.set(key, next);
      void next.enqueue('start', async () => {
        await old.enqueue('wait', async () => {});
        if (!pod.metadata?.deletionTimestamp) await next.start();
      });
    } else if (!w) {
      w = new PodWorker(pod, env);
      workers.set(key, w);
      const fresh = w;
      // A pod first seen terminating (kubelet restarted meanwhile) is only cleaned up.
      if (!pod.metadata?.deletionTimestamp) void fresh.enqueue('start', () => fresh.start());
    } else {
      w.pod = pod;
    }
    if (pod.metadata?.deletionTimestamp && !w.terminationQueued) void retire(w, true);
  };

  const onDelete = (pod: Pod) => {
    const w = workers.get(namespacedName(pod.metadata));
    if (w && w.uid === pod.metadata?.uid && !w.terminationQueued) void retire(w, false);
  };

  const watch = await api.watchPods(opts.nodeName, { onAdd: onPod, onUpdate: onPod, onDelete });
  await collectOrphans(opts, env, new Set(workers.keys()));

  const timer = setInterval(() => {
    for (const w of workers.values()) if (w.idle && (w.state === 'running' || w.state === 'failed')) void w.enqueue('tick', () => w.tick());
  }, TICK_MS);
  log(`watching pods of node ${opts.nodeName} (${workers.size} at start)`);

  const settled = async () => {
    await Promise.all([...workers.values()].map((w) => w.enqueue('settle', async () => {})));
  };
  return {
    workers,
    settled,
    stop: async () => {
      clearInterval(timer);
      watch.stop();
      await settled();
    },
  };
}

/**
 * Sandboxes this node's kubelet made for pods the API no longer has (deleted
 * while no kubelet ran): kill what runs there, undo the sandbox. Pod dirs of
 * other nodes (the netns driver shares one state dir) are left alone.
 */
async function collectOrphans(opts: KubeletOptions, env: WorkerEnv, live: Set<string>): Promise<void> {
  for (const { dir, record } of await listSandboxes(opts.stateDir)) {
    if (!record || record.nodeName !== opts.nodeName || live.has(`${record.namespace}/${record.name}`)) continue;
    await killSandboxProcesses(record.netns, dir, record);
    const pod: Pod = { metadata: { namespace: record.namespace, name: record.name, uid: record.uid } };
    const problems = await removeSandbox(
      { pod, nodeName: opts.nodeName, netns: record.netns, podDir: dir, cniConfDir: opts.cniConfDir, cniResult: record.cniResult },
      env.cni,
    );
    env.log(`${record.namespace}/${record.name}: removed the sandbox of a pod that no longer exists${problems.length ? ` (${problems.join('; ')})` : ''}`);
  }
}

/**
 * `svclab daemon kubelet …`: runs until SIGTERM or SIGINT, then stops
 * watching and leaves the pods running.
 */
export async function runKubelet(opts: KubeletOptions): Promise<void> {
  const kubelet = await startKubelet(opts);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await kubelet.stop();
}
