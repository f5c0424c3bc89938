// `svclab up`: lab file → running lab, in phases: nodes, CNI, control plane,
// node agents (kubelet + proxy), workloads, ready. Every resource it makes is
// named after the lab and recorded under /var/lib/svclab/<lab>, so `down`
// can remove it even if this is killed half-way.
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { Lab } from '../lab/load.ts';
import type { LabDriver, LabNode, LabNodes } from '../cluster/driver.ts';
import { cniConfig } from '../cni/config.ts';
import { ApiClient } from '../controlplane/client.ts';
import { EnvironmentError } from '../util/errors.ts';
import type { Progress } from '../util/output.ts';
import { apiSocketPath, labDir, readRecord, writeRecord, type LabRecord } from './state.ts';
import { API_PORT, apiServerArgv, cniConfDir, kubeletArgv, nodeDir, proxyArgv } from './daemons.ts';
import { LabApi } from './lab-api.ts';
import { labPkiDir, makeLabPki, openReach, reachUnsupported, secureSocketPath } from './reach.ts';
import type { Deployment, KubeObject, Pod } from '../k8s/objects.ts';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RunningLab {
  record: LabRecord;
  nodes: Map<string, LabNode>;
  external: LabNode;
  api: LabApi;
  driver: LabDriver;
}

export async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new EnvironmentError(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(intervalMs);
  }
}

/**
 * Runs a long wait, saying every 15 s that it is still waiting (TCG VMs take
 * minutes) and, when `fn` reports it, on what exactly.
 */
export async function waitWithProgress<T>(
  progress: Pick<Progress, 'note'>, what: string, timeoutMs: number, fn: (status: (now: string) => void) => Promise<T>,
): Promise<T> {
  const t0 = Date.now();
  let current = '';
  const timer = setInterval(() => progress.note(`still waiting for ${current || what} (${Math.round((Date.now() - t0) / 1000)}s of at most ${timeoutMs / 1000}s)`), 15_000);
  try {
    return await fn((now) => { current = now; });
  } finally {
    clearInterval(timer);
  }
}

function labApi(rec: LabRecord, nodes: LabNodes, timeScale: number): LabApi {
  const map = new Map(nodes.nodes.map((n) => [n.name, n]));
  // A TCG node-01 busy starting pods answered a GET after more than 30 s here.
  return new LabApi(new ApiClient({ socket: rec.apiSocket, timeoutMs: 30_000 * timeScale }), map, labDir(rec.name));
}

/** Attach to a lab that is up. */
export async function attachLab(rec: LabRecord, driver: LabDriver): Promise<RunningLab> {
  const nodes = await driver.attach(rec.layout);
  return { record: rec, nodes: new Map(nodes.nodes.map((n) => [n.name, n])), external: nodes.external, api: labApi(rec, nodes, driver.capabilities.timeScale), driver };
}

export interface UpOptions {
  /** The nodes exist already (made by the Pulumi stack's resources): attach to them instead of creating them. */
  adopt?: boolean;
  /** Start no kube-proxy (`svclab proxy restart` starts it later). */
  skipProxy?: boolean;
  /** Apply none of the lab's manifests (`svclab apply -f LAB` does later). */
  skipWorkloads?: boolean;
}

export async function upLab(lab: Lab, driver: LabDriver, progress: Progress, opts: UpOptions = {}): Promise<RunningLab> {
  const { layout } = lab;
  const mode = layout.proxyMode;
  const existing = await readRecord(lab.name);
  if (existing || (!opts.adopt && (await driver.exists(lab.name)))) {
    throw new EnvironmentError(`lab ${lab.name} is already up (or was left half-made)`, `run \`svclab down ${lab.name}${opts.adopt ? ' --keep-nodes' : ''}\` first`);
  }
  for (const w of lab.warnings) progress.warn(w);
  const stateDir = labDir(lab.name);
  const rec: LabRecord = {
    name: lab.name,
    file: lab.file,
    driver: driver.name,
    mode,
    layout,
    phase: 'starting',
    createdAt: new Date().toISOString(),
    apiSocket: apiSocketPath(lab.name),
  };
  await writeRecord(rec);
  const { nodeBin, bundle } = driver.runtime();

  const nodes = opts.adopt
    ? await progress.phase(`Adopting ${layout.nodes.length} nodes (${driver.name})`, () => driver.attach(layout))
    : await progress.phase(
      `Creating ${layout.nodes.length} nodes (${driver.name})`,
      () => driver.up(layout, (p, d) => progress.note(`${p}${d ? ` ${d}` : ''}`)),
      `${layout.nodes.map((n) => `${n.name}=${n.ip}`).join(' ')} + external client ${layout.external.ip}`,
    );
  rec.daemons = {};
  const daemon = async (node: LabNode, component: string, argv: string[]) => {
    rec.daemons![`${component}/${node.name}`] = await node.startDaemon([nodeBin, bundle, ...argv], join(stateDir, 'logs', component === 'apiserver' ? 'apiserver.log' : `${component}-${node.name}.log`));
  };
  const nodeMap = new Map(nodes.nodes.map((n) => [n.name, n]));

  await progress.phase('Writing CNI configuration (bridge + host-local, host-gw routes)', async () => {
    await Promise.all(
      layout.nodes.map((n) => {
        const conf = cniConfig({ podCIDR: n.podCIDR, dataDir: join(nodeDir(stateDir, n.name), 'cni', 'ipam') });
        return nodeMap.get(n.name)!.writeFile(join(cniConfDir(stateDir, n.name), '10-svclab.conflist'), JSON.stringify(conf, null, 2) + '\n');
      }),
    );
  });

  const cp = nodes.nodes[0];
  const api = labApi(rec, nodes, driver.capabilities.timeScale);
  const scale = driver.capabilities.timeScale;
  const noReach = reachUnsupported(driver);
  if (!noReach) {
    await progress.phase('Making the lab PKI (CA, apiserver serving and admin client certificates)', () => makeLabPki(layout, driver, cp), `(${labPkiDir(lab.name)})`);
  }
  await progress.phase(`Starting the control plane on ${cp.name}`, async () => {
    await daemon(cp, 'apiserver', apiServerArgv(layout, stateDir, rec.apiSocket, noReach ? undefined : secureSocketPath(lab.name)));
    // Where this host does not route to the node network (VMs), the driver relays the CLI's socket to node-01:6443.
    await driver.forward(layout, rec.apiSocket, cp.ip, API_PORT);
    await waitWithProgress(progress, 'the API server', 20_000 * scale, () => waitFor('the API server', 20_000 * scale, async () => (await api.client.request('GET', '/healthz'), true)));
  }, `(API on ${cp.ip}:${API_PORT}, service CIDR ${layout.serviceCIDR})`);
  if (!driver.capabilities.sharesHostFilesystem) progress.note(`node logs are inside each VM under ${join(stateDir, 'logs')} (svclab exec ${cp.name} -- cat ${join(stateDir, 'logs', 'apiserver.log')})`);

  await progress.phase(opts.skipProxy ? 'Starting kubelet on every node' : `Starting kubelet and kube-proxy (${mode} mode) on every node`, async () => {
    await Promise.all(
      layout.nodes.map(async (n) => {
        const node = nodeMap.get(n.name)!;
        await daemon(node, 'kubelet', kubeletArgv(layout, n, stateDir));
        if (!opts.skipProxy) rec.daemons![`proxy/${n.name}`] = await startProxy(node, lab, mode, nodeBin, bundle, { loadModules: !driver.capabilities.sharesHostKernel });
      }),
    );
  });
  await writeRecord(rec);

  const manifests = opts.skipWorkloads ? [] : ((lab.spec.manifests ?? []) as KubeObject[]);
  await progress.phase(`Applying ${manifests.length} manifests`, async () => {
    // Namespaces first, then everything else in file order (as kubectl apply -f would).
    const ordered = [...manifests.filter((m) => m.kind === 'Namespace'), ...manifests.filter((m) => m.kind !== 'Namespace')];
    for (const obj of ordered) progress.note(await api.apply(obj));
  });

  await progress.phase('Waiting for pods to be Ready and proxies to sync', () =>
    waitWithProgress(progress, 'pods and proxies', 120_000 * scale, (status) =>
      waitReady(api, opts.skipProxy ? [] : nodes.nodes, manifests, 120_000 * scale, 300 * scale, status)));

  if (noReach) progress.note(`no kubectl context: ${noReach} (svclab's own verbs work)`);
  else {
    const reach = await progress.phase('Opening the API on this host for kubectl', () => openReach(rec));
    progress.note(`kubectl context svclab-${lab.name} (https://127.0.0.1:${reach.port}) merged into ${reach.kubeconfig} and made current`);
  }
  rec.phase = 'up';
  await writeRecord(rec);
  return { record: rec, nodes: nodeMap, external: nodes.external, api, driver };
}

/** Starts kube-proxy in `mode` on one node (with the lab's KubeProxyConfiguration, if any); returns its pid. */
export async function startProxy(node: LabNode, lab: Lab, mode: string, nodeBin: string, bundle: string, flags: { loadModules?: boolean } = {}): Promise<number> {
  const { layout } = lab;
  const stateDir = labDir(lab.name);
  const n = layout.nodes.find((x) => x.name === node.name)!;
  let configFile: string | undefined;
  const cfg = lab.spec.proxy?.config;
  if (cfg && Object.keys(cfg).length) {
    configFile = join(nodeDir(stateDir, n.name), 'kube-proxy.yaml');
    await node.writeFile(configFile, toYaml({ apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', mode, ...cfg }));
  }
  return node.startDaemon([nodeBin, bundle, ...proxyArgv(layout, n, mode, configFile, flags)], join(stateDir, 'logs', `proxy-${n.name}.log`));
}

/** Ready = every Deployment has its replicas Ready, every Pod is Ready, every proxy reports healthy. */
export async function waitReady(
  api: LabApi, nodes: LabNode[], manifests: KubeObject[], timeoutMs: number, pollMs = 300, status: (now: string) => void = () => {},
): Promise<void> {
  const start = Date.now();
  const left = () => Math.max(1000, timeoutMs - (Date.now() - start));
  for (const d of manifests.filter((m): m is Deployment => m.kind === 'Deployment')) {
    const replicas = d.spec?.replicas ?? 1;
    status(`deployment ${d.metadata!.name} (${replicas} Ready replicas)`);
    await api.waitDeploymentReady(d.metadata!.name!, replicas, d.metadata?.namespace ?? 'default', left());
  }
  // kube-system's DNS pod comes from the control plane itself.
  status('deployment kube-system/coredns');
  await api.waitDeploymentReady('coredns', 1, 'kube-system', left());
  for (const p of manifests.filter((m): m is Pod => m.kind === 'Pod')) {
    status(`pod ${p.metadata!.name} to be Ready`);
    await waitFor(`pod ${p.metadata!.name} to be Ready`, left(), async () => (await api.findPods(p.metadata!.name!, p.metadata?.namespace)).some((v) => v.ready) || undefined);
  }
  const behind = new Set(nodes.map((n) => n.name));
  const report = () => status(`kube-proxy to program the lab's Services on ${[...behind].join(', ')}`);
  report();
  await Promise.all(
    nodes.map((n) =>
      waitFor(`kube-proxy on ${n.name} to program the lab's Services`, left(), async () => proxyCaughtUp(n) || undefined, pollMs)
        .then(() => { behind.delete(n.name); report(); }),
    ),
  );
}

/**
 * A proxy has caught up when it has synced at least once and no change has
 * been queued since its last sync read its input (both timestamps from its own metrics, so
 * node clocks do not matter). Checked after the pods are Ready, so the
 * EndpointSlices that readiness produced are among what it synced.
 */
export async function proxyCaughtUp(node: LabNode): Promise<boolean> {
  const r = await node.exec(['curl', '-s', '--max-time', '2', 'http://127.0.0.1:10249/metrics'], { allowFailure: true });
  const gauge = (name: string) => Number(r.stdout.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1] ?? NaN);
  const synced = gauge('svclab_proxy_sync_snapshot_timestamp_seconds');
  const queued = gauge('kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds');
  return r.code === 0 && synced > 0 && !(queued > synced);
}
