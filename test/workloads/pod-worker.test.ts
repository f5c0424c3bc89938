// PodWorker decisions that need neither root nor a kernel: a fake CNI and API,
// a throwaway state dir.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '../../src/k8s/objects.ts';
import { PodWorker, type KubeletOptions, type PodApi, type WorkerEnv } from '../../src/workloads/pod-worker.ts';
import type { PodStatus } from '../../src/workloads/pod-status.ts';
import type { Cni, SandboxRecord } from '../../src/workloads/sandbox.ts';
import { podDir, sandboxFile } from '../../src/workloads/pod-paths.ts';

test('a sandbox another node recorded in the shared state dir is neither adopted nor removed; the start is retried', async () => {
  const state = await mkdtemp(join(tmpdir(), 'svclab-podworker-'));
  try {
    const cniCalls: string[] = [];
    const cni: Cni = {
      add: async () => (cniCalls.push('add'), { ip: '10.244.2.9' }),
      del: async () => void cniCalls.push('del'),
    };
    const statuses: PodStatus[] = [];
    const api: PodApi = {
      watchPods: async () => ({ stop() {} }),
      putStatus: async (_p, s) => void statuses.push(s),
      deletePod: async () => {},
    };
    const opts = {
      nodeName: 'node-02', nodeIP: '192.168.49.3', api: 'fake', labName: 't', stateDir: state, cniConfDir: join(state, 'cni'),
      // A prefix no netns has: the worker must stop before it looks at /run/netns.
      netnsPrefix: `svclab-unit-${process.pid}-p-`, bundle: '', dnsIP: '10.96.0.10', clusterDomain: 'cluster.local', dnsHostsDir: join(state, 'dns'),
    } satisfies KubeletOptions;
    const env: WorkerEnv = { opts, api, cni, resolveImage: () => 'nginx', knownImages: ['nginx*'], nodeBinary: process.execPath, log: () => {} };
    // node-01's web-0 (an earlier pod of the same name) is still on disk.
    const dir = podDir(state, 'default', 'web-0');
    const foreign: SandboxRecord = {
      namespace: 'default', name: 'web-0', uid: 'uid-old', nodeName: 'node-01', netns: `${opts.netnsPrefix}default_web-0`,
      netnsIno: 4026532999, ip: '10.244.1.5', createdAt: '2024-01-01T00:00:00Z',
    };
    await mkdir(dir, { recursive: true });
    await writeFile(sandboxFile(dir), JSON.stringify(foreign));
    await writeFile(join(dir, 'nginx.pid'), '4242\n');

    const pod: Pod = { metadata: { namespace: 'default', name: 'web-0', uid: 'uid-new' }, spec: { nodeName: 'node-02', containers: [{ name: 'nginx', image: 'nginx' }] } };
    const w = new PodWorker(pod, env);
    await w.start();

    assert.is(w.state, 'failed');
    assert.equal(cniCalls, [], 'no CNI ADD or DEL for a sandbox of another node');
    assert.equal(JSON.parse(await readFile(sandboxFile(dir), 'utf8')), foreign, 'node-01 sandbox record left as it was');
    assert.is(await readFile(join(dir, 'nginx.pid'), 'utf8'), '4242\n');
    const last = statuses.at(-1) as PodStatus & { reason?: string; message?: string };
    assert.is(last.reason, 'FailedCreatePodSandBox');
    assert.match(last.message ?? '', /belongs to pod uid uid-old on node node-01/);
  } finally {
    await rm(state, { recursive: true, force: true });
  }
});

test.run();
