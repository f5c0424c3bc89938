// Verbs that change a running lab's daemons without touching its nodes, for
// the Pulumi stack (its VMs are resources of their own): `proxy restart` swaps
// kube-proxy's mode in place, `down --keep-nodes` stops the lab on the nodes
// and leaves the nodes (VMs) for their own resources to remove.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LabNode } from '../cluster/driver.ts';
import type { Lab } from '../lab/load.ts';
import type { Progress } from '../cli/output.ts';
import { EnvironmentError } from '../util/errors.ts';
import { proxyArgv } from './daemons.ts';
import { labDir, writeRecord } from './state.ts';
import { proxyCaughtUp, startProxy, waitFor, waitWithProgress, type RunningLab } from './up.ts';

/** Sends SIGTERM to `pid` in `node` and waits until it is gone (SIGKILL after `graceMs`). */
export async function stopNodeProcess(node: LabNode, pid: number, graceMs = 10_000): Promise<void> {
  const alive = async () => (await node.exec(['kill', '-0', String(pid)], { allowFailure: true })).code === 0;
  if (!(await alive())) return;
  await node.exec(['kill', '-TERM', String(pid)], { allowFailure: true });
  const deadline = Date.now() + graceMs;
  while (await alive()) {
    if (Date.now() > deadline) {
      await node.exec(['kill', '-KILL', String(pid)], { allowFailure: true });
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Stops each node's kube-proxy, removes the old mode's rules (`--cleanup`, as
 * upstream kube-proxy does when its mode changes), starts it in `mode`, and
 * waits until every proxy has programmed the lab's Services.
 */
export async function restartProxy(lab: Lab, running: RunningLab, mode: string, progress: Progress): Promise<void> {
  const rec = running.record;
  const { nodeBin, bundle } = running.driver.runtime();
  // Kernel modules are host-wide where nodes share this host's kernel: never modprobe there.
  const loadModules = !running.driver.capabilities.sharesHostKernel;
  const scale = running.driver.capabilities.timeScale;
  rec.daemons ??= {};
  await progress.phase(`Restarting kube-proxy in ${mode} mode on every node (was ${rec.mode})`, async () => {
    await Promise.all(rec.layout.nodes.map(async (n) => {
      const node = running.nodes.get(n.name)!;
      const old = rec.daemons![`proxy/${n.name}`];
      if (old) await stopNodeProcess(node, old);
      delete rec.daemons![`proxy/${n.name}`];
      if (old && rec.mode !== mode) {
        await node.exec([nodeBin, bundle, ...proxyArgv(rec.layout, n, rec.mode, undefined, { loadModules, cleanup: true })], { timeoutMs: 120_000 * scale });
      }
      rec.daemons![`proxy/${n.name}`] = await startProxy(node, lab, mode, nodeBin, bundle, { loadModules });
    }));
    rec.mode = mode;
    await writeRecord(rec);
  });
  await progress.phase('Waiting for the proxies to sync', () =>
    waitWithProgress(progress, 'kube-proxy', 120_000 * scale, () => Promise.all([...running.nodes.values()].map((node) =>
      waitFor(`kube-proxy on ${node.name} to program the lab's Services`, 120_000 * scale, async () => (await proxyCaughtUp(node)) || undefined, 500)))));
}

/**
 * Stops the lab on its nodes and keeps the nodes: kills the recorded daemons
 * (proxies, kubelets, then the apiserver), the pods' processes and network
 * namespaces, and the lab's files inside each node; on this host the lab
 * record, the API socket and its forwarder go, the VM files stay.
 * Only for drivers whose nodes outlive the lab (VMs).
 */
export async function downKeepNodes(running: RunningLab): Promise<string> {
  const rec = running.record;
  if (!running.driver.capabilities.nodesOutliveLab) {
    throw new EnvironmentError('--keep-nodes is for VM nodes (the libvirt driver); a netns lab is removed whole', `run \`svclab down ${rec.name}\``);
  }
  const stateDir = labDir(rec.name);
  const daemons = Object.entries(rec.daemons ?? {});
  const order = ['proxy', 'kubelet', 'apiserver'];
  let stopped = 0;
  for (const component of order) {
    await Promise.all(daemons.filter(([k]) => k.startsWith(`${component}/`)).map(async ([k, pid]) => {
      const node = running.nodes.get(k.split('/')[1]);
      if (!node) return;
      await stopNodeProcess(node, pid);
      stopped++;
    }));
  }
  // Pods: every process in the lab's pod namespaces, then the namespaces. The
  // prefix is an argument of a fixed script, never part of its text.
  const prefix = `svclab-${rec.name}-p-`;
  const sweep = 'for ns in $(ip netns list | cut -d" " -f1); do case "$ns" in "$1"*) for p in $(ip netns pids "$ns"); do kill -9 "$p"; done; ip netns del "$ns";; esac; done';
  await Promise.all([...running.nodes.values()].map(async (node) => {
    await node.exec(['sh', '-c', sweep, 'sh', prefix], { allowFailure: true });
    await node.exec(['rm', '-rf', stateDir], { allowFailure: true });
  }));
  // On this host: the record, the API socket and its forwarder; the VMs' own files stay.
  await running.driver.unforward(rec.name);
  for (const f of ['lab.json', 'api.sock']) rmSync(join(stateDir, f), { force: true });
  if (existsSync(join(stateDir, 'logs'))) rmSync(join(stateDir, 'logs', 'forward.log'), { force: true });
  return `stopped ${stopped} daemons and the pods on ${running.nodes.size} nodes; the nodes stay`;
}
