import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClusterIPAllocator, NodePortAllocator } from '../../src/controlplane/allocators.ts';
import { Registry } from '../../src/controlplane/registry.ts';
import { ServiceStrategy } from '../../src/controlplane/service-strategy.ts';
import { Store, type KObj } from '../../src/controlplane/store.ts';
import { DeploymentController } from '../../src/controlplane/controllers/deployment.ts';
import { Scheduler, choosePlacement } from '../../src/controlplane/controllers/scheduler.ts';
import { GarbageCollector } from '../../src/controlplane/controllers/garbage-collector.ts';
import { NamespaceController } from '../../src/controlplane/controllers/namespace.ts';
import { ensureBuiltins } from '../../src/controlplane/controllers/builtins.ts';
import type { Controller } from '../../src/controlplane/controllers/queue.ts';
import type { K8sNode, Pod } from '../../src/k8s/objects.ts';
import { NODES } from './helpers.ts';

/** Lets the controllers' queues run until nothing is left to do. */
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

function cluster() {
  const r = new Registry({ store: new Store(), services: new ServiceStrategy(new ClusterIPAllocator('10.96.0.0/12'), new NodePortAllocator({ base: 30000, size: 2768 })) });
  ensureBuiltins(r, { serviceCIDR: '10.96.0.0/12', nodes: NODES, controlPlaneNode: 'node-01', advertiseAddress: '192.168.49.2', securePort: 6443 }, () => {});
  r.delete('Deployment', 'kube-system', 'coredns');
  const controllers: Controller[] = [new Scheduler(r, () => {}), new DeploymentController(r, () => {}), new GarbageCollector(r, () => {}), new NamespaceController(r, () => {})];
  for (const c of controllers) c.start();
  return { r, stop: () => (controllers.forEach((c) => c.stop()), r.close()) };
}

const webPods = (r: Registry) => r.list('Pod', 'default', { labelSelector: 'app=web' }).items;
const live = (r: Registry) => webPods(r).filter((p) => !p.metadata.deletionTimestamp);

function deployment(image: string, extra: Record<string, unknown> = {}): KObj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: { replicas: 4, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } }, ...extra },
  };
}

/** Plays the kubelet: running, Ready, and deleted pods confirmed gone. */
function kubelet(r: Registry) {
  for (const p of webPods(r)) {
    if (p.metadata.deletionTimestamp) r.delete('Pod', 'default', p.metadata.name!, { gracePeriodSeconds: 0 });
    else if (p.status?.phase !== 'Running') {
      r.update('Pod', 'default', p.metadata.name!, { ...structuredClone(p), status: { phase: 'Running', podIP: '10.244.0.9', conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
    }
  }
}

test('the scheduler honours nodeName and hostname selectors, else picks the least busy Ready node', () => {
  const nodes = NODES.map((n) => ({ metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } })) as K8sNode[];
  const on = (node: string) => ({ spec: { nodeName: node } }) as Pod;
  assert.equal(choosePlacement({ spec: {} } as Pod, nodes, [on('node-01')]), { node: 'node-02' });
  assert.equal(choosePlacement({ spec: {} } as Pod, nodes, [on('node-01'), on('node-02')]), { node: 'node-01' }, 'ties go by name');
  assert.equal(choosePlacement({ spec: { nodeSelector: { 'kubernetes.io/hostname': 'node-01' } } } as unknown as Pod, nodes, [on('node-01')]), { node: 'node-01' });
  const none = choosePlacement({ spec: { nodeSelector: { disk: 'ssd' } } } as unknown as Pod, nodes, []);
  assert.is(none.reason, "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.");
});

test('deployment scale up and down; pods named <deploy>-<hash>-<5>, owned by the deployment', async () => {
  const { r, stop } = cluster();
  try {
    const d = r.create('Deployment', 'default', deployment('nginx:1'));
    await settle();
    assert.is(live(r).length, 4);
    const hash = live(r)[0].metadata.labels!['pod-template-hash'];
    for (const p of live(r)) {
      assert.ok(p.metadata.name!.startsWith(`web-${hash}-`));
      assert.is(p.metadata.ownerReferences![0].uid, d.metadata.uid);
      assert.ok(p.spec.nodeName);
    }
    r.patch('Deployment', 'default', 'web', { spec: { replicas: 1 } }, 'merge');
    await settle();
    assert.is(live(r).length, 1);
    assert.is(webPods(r).length, 4, 'removed pods wait for the kubelet');
    kubelet(r);
    await settle();
    assert.is(webPods(r).length, 1);
    const status = r.get('Deployment', 'default', 'web').status;
    assert.equal({ replicas: status.replicas, ready: status.readyReplicas, updated: status.updatedReplicas }, { replicas: 1, ready: 1, updated: 1 });
  } finally {
    stop();
  }
});

test('a template change rolls pods over within maxSurge/maxUnavailable', async () => {
  const { r, stop } = cluster();
  try {
    r.create('Deployment', 'default', deployment('nginx:1'));
    await settle();
    kubelet(r);
    await settle();
    const oldHash = live(r)[0].metadata.labels!['pod-template-hash'];
    r.patch('Deployment', 'default', 'web', { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } } }, 'merge');
    let maxTotal = 0, minReady = 99;
    for (let round = 0; round < 20; round++) {
      await settle();
      const pods = live(r);
      maxTotal = Math.max(maxTotal, pods.length);
      minReady = Math.min(minReady, pods.filter((p) => p.status?.conditions?.[0]?.status === 'True').length);
      kubelet(r);
      if (pods.length === 4 && pods.every((p) => p.metadata.labels!['pod-template-hash'] !== oldHash && p.status?.phase === 'Running')) break;
    }
    await settle();
    const pods = live(r);
    assert.is(pods.length, 4);
    assert.ok(pods.every((p) => p.spec.containers[0].image === 'nginx:2'));
    assert.ok(maxTotal <= 5, `at most replicas+maxSurge(1) pods, saw ${maxTotal}`);
    assert.ok(minReady >= 3, `at least replicas-maxUnavailable(1) ready, saw ${minReady}`);
  } finally {
    stop();
  }
});

test('deleting a deployment deletes its pods; deleting a namespace empties and removes it', async () => {
  const { r, stop } = cluster();
  try {
    r.create('Namespace', undefined, { metadata: { name: 'lab' } });
    r.create('Deployment', 'lab', { ...deployment('nginx:1'), metadata: { name: 'web', namespace: 'lab' } });
    await settle();
    assert.is(r.list('Pod', 'lab').items.length, 4);
    r.delete('Namespace', undefined, 'lab');
    assert.is(r.get('Namespace', undefined, 'lab').status.phase, 'Terminating');
    assert.throws(() => r.create('Service', 'lab', { metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } }), /unable to create new content in namespace lab because it is being terminated/);
    await settle();
    assert.ok(r.list('Pod', 'lab').items.every((p) => p.metadata.deletionTimestamp), 'pods terminate gracefully');
    for (const p of r.list('Pod', 'lab').items) r.delete('Pod', 'lab', p.metadata.name!, { gracePeriodSeconds: 0 });
    await settle();
    assert.is(r.tryGet('Namespace', undefined, 'lab'), undefined);
  } finally {
    stop();
  }
});

test.run();
