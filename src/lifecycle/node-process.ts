// Stopping a daemon inside a node by its pid (as the node sees it): what both
// `proxy restart` and `down --keep-nodes` do to the daemons the lab record lists.
import type { LabNode } from '../cluster/driver.ts';

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
