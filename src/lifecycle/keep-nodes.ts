// `svclab down --keep-nodes`: the lab stopped on its nodes, the nodes (VMs)
// left for their own resources to remove (the Pulumi stack's VMs are resources of their own).
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentError } from '../util/errors.ts';
import { stopNodeProcess } from './node-process.ts';
import { labDir } from './state.ts';
import type { RunningLab } from './up.ts';

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
