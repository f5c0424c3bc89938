// `svclab proxy restart`: kube-proxy's mode swapped in place on a running lab,
// its nodes and the other daemons untouched (the Pulumi stack changes a mode this way).
import type { Lab } from '../lab/load.ts';
import type { Progress } from '../util/output.ts';
import { proxyArgv } from './daemons.ts';
import { stopNodeProcess } from './node-process.ts';
import { writeRecord } from './state.ts';
import { proxyCaughtUp, startProxy, waitFor, waitWithProgress, type RunningLab } from './up.ts';
import type { ProxyMode } from '../k8s/proxy-mode.ts';

/**
 * Stops each node's kube-proxy, removes the old mode's rules (`--cleanup`, as
 * upstream kube-proxy does when its mode changes), starts it in `mode`, and
 * waits until every proxy has programmed the lab's Services.
 */
export async function restartProxy(lab: Lab, running: RunningLab, mode: ProxyMode, progress: Progress): Promise<void> {
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
