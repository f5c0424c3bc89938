// The kubelet against the real machine: real nginx, MariaDB and dnsmasq in
// pod namespaces made by the real CNI plugins, inside a throwaway "node"
// namespace; a fake API in memory stands in for the control plane.
//
// The kubelet must run inside the node's network namespace but in the host's
// mount namespace (see checkNetnsPropagation), so this file runs twice: the
// outer process (host netns) makes the node namespace, re-runs itself under
// `nsenter --net=<node>` and, whatever happens, removes every namespace,
// process and file afterwards; the inner process holds the tests.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSocket } from 'node:dgram';
import { build } from 'esbuild';
import { run } from '../../src/util/exec.ts';
import type { EndpointSlice, Pod } from '../../src/k8s/objects.ts';
import { ApiClient } from '../../src/controlplane/client.ts';
import { parseApiServerFlags, runApiServer } from '../../src/controlplane/apiserver.ts';
import { startKubelet, type Kubelet } from '../../src/workloads/kubelet.ts';
import type { KubeletOptions, PodApi } from '../../src/workloads/pod-worker.ts';
import type { PodStatus } from '../../src/workloads/pod-status.ts';
import { podDir, podExecArgv, podNetns, readContainerPid, netnsEtcDir, netnsPath } from '../../src/workloads/pod-paths.ts';
import { netnsInode, isNetnsMounted, readSandbox } from '../../src/workloads/sandbox.ts';
import { containerLeftovers, processAlive, processesInNetns } from '../../src/workloads/containers.ts';
import { cniConfig, detectCniVersion, writeCniConfig } from '../../src/cni/config.ts';

const INNER = process.env.SVCLAB_KUBELET_IT;

async function preconditions(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const bin of ['/usr/sbin/nginx', '/usr/sbin/mariadbd', '/usr/bin/mariadb-install-db', '/usr/sbin/dnsmasq', '/usr/lib/cni/bridge', '/usr/bin/nsenter', '/usr/bin/curl']) {
    if (!existsSync(bin)) return `${bin} is missing`;
  }
  const probe = await run(['ip', 'netns', 'list'], { allowFailure: true });
  if (probe.code !== 0) return `ip netns does not work here: ${probe.stderr.trim()}`;
  return undefined;
}

// ---- outer: make the node, run the tests inside it, clean up everything ----------

async function killNetns(ns: string): Promise<void> {
  const path = netnsPath(ns);
  if (isNetnsMounted(path)) {
    const ino = netnsInode(path)!;
    for (const pid of processesInNetns(ino)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (let i = 0; i < 50 && processesInNetns(ino).length; i++) await sleep(100);
  }
  await run(['ip', 'netns', 'del', ns], { allowFailure: true });
}

async function outer(): Promise<number> {
  const tag = `wlt${randomBytes(3).toString('hex')}`;
  const node = `svclab-${tag}-node`;
  const prefix = `svclab-${tag}-p-`;
  const state = `/tmp/svclab-${tag}`;
  let code = 1;
  try {
    await run(['ip', 'netns', 'add', node]);
    await run(['ip', '-n', node, 'link', 'set', 'lo', 'up']);
    const child = spawn('nsenter', [`--net=${netnsPath(node)}`, '--', process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url)], {
      stdio: 'inherit',
      env: { ...process.env, SVCLAB_KUBELET_IT: JSON.stringify({ prefix, state }) },
    });
    code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  } finally {
    for (const ns of readdirSync('/run/netns').filter((n) => n.startsWith(prefix))) await killNetns(ns);
    await killNetns(node);
    for (const d of existsSync('/etc/netns') ? readdirSync('/etc/netns').filter((n) => n.startsWith(prefix)) : []) {
      await rm(join('/etc/netns', d), { recursive: true, force: true });
    }
    await rm(state, { recursive: true, force: true });
    const left = readdirSync('/run/netns').filter((n) => n.startsWith(`svclab-${tag}`));
    if (left.length) {
      console.error(`LEAK: namespaces left behind: ${left.join(' ')}`);
      code = 1;
    }
  }
  return code;
}

// ---- inner: the tests, inside the node namespace --------------------------------

/** The control plane, as far as the kubelet sees it. */
class FakeApi implements PodApi {
  pods = new Map<string, Pod>();
  deleted: string[] = [];
  private h?: Parameters<PodApi['watchPods']>[1];
  async watchPods(_node: string, h: Parameters<PodApi['watchPods']>[1]) {
    this.h = h;
    for (const p of this.pods.values()) h.onAdd(structuredClone(p));
    return { stop: () => (this.h = undefined) };
  }
  async putStatus(pod: Pod, status: PodStatus) {
    const p = this.pods.get(key(pod));
    if (p && p.metadata?.uid === pod.metadata?.uid) this.pods.set(key(pod), { ...p, status });
  }
  async deletePod(pod: Pod) {
    this.pods.delete(key(pod));
    this.deleted.push(key(pod));
    this.h?.onDelete(structuredClone(pod));
  }
  create(pod: Pod): Pod {
    pod.metadata = { namespace: 'default', uid: randomUUID(), ...pod.metadata };
    pod.spec = { nodeName: 'node-01', ...pod.spec! };
    this.pods.set(key(pod), pod);
    this.h?.onAdd(structuredClone(pod));
    return pod;
  }
  markDeleted(name: string) {
    const old = this.pods.get(`default/${name}`)!;
    const p: Pod = { ...old, metadata: { ...old.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 30 } };
    this.pods.set(`default/${name}`, p);
    this.h?.onUpdate(structuredClone(p));
  }
  status(name: string): PodStatus | undefined {
    return this.pods.get(`default/${name}`)?.status;
  }
}
const key = (p: Pod) => `${p.metadata?.namespace ?? 'default'}/${p.metadata?.name}`;
const isReady = (s?: PodStatus) => s?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

function inner(): void {
  const { prefix, state } = JSON.parse(INNER!) as { prefix: string; state: string };
  const api = new FakeApi();
  const logs: string[] = [];
  const measured: Record<string, string> = {};
  const opts: KubeletOptions = {
    nodeName: 'node-01',
    nodeIP: '192.168.49.2',
    api: 'fake',
    labName: 'wlt',
    stateDir: state,
    cniConfDir: join(state, 'cni', 'node-01'),
    netnsPrefix: prefix,
    bundle: join(state, 'svclab.mjs'),
    dnsIP: '10.96.0.10',
    clusterDomain: 'cluster.local',
    dnsHostsDir: join(state, 'dns-hosts'),
  };
  let kubelet: Kubelet;
  const start = (o = opts, realApi = false) =>
    startKubelet(o, {
      api: realApi ? undefined : api,
      log: (l) => {
        logs.push(l);
        if (process.env.VERBOSE) console.log(`    kubelet: ${l}`);
      },
    });
  const pid = (name: string, container: string) => readContainerPid(podDir(state, 'default', name), container)!;
  const inPod = (name: string, container: string, argv: string[]) => run(podExecArgv(pid(name, container), argv), { allowFailure: true, timeoutMs: 20_000 });

  test.before(async () => {
    await writeCniConfig(opts.cniConfDir, cniConfig({ podCIDR: '10.244.7.0/24', dataDir: join(state, 'cni', 'ipam'), cniVersion: await detectCniVersion() }));
    await mkdir(opts.dnsHostsDir, { recursive: true });
    // netexec containers run `node <bundle> daemon netexec …`: a bundle of just that entry point.
    const entry = join(state, 'netexec-entry.ts');
    await writeFile(entry, `import { runNetexec } from ${JSON.stringify(fileURLToPath(new URL('../../src/workloads/netexec.ts', import.meta.url)))};\nawait runNetexec(process.argv.slice(4));\n`);
    await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile: opts.bundle, logLevel: 'error' });
    kubelet = await start();
  });

  test.after(async () => {
    await kubelet?.stop();
  });

  test('nginx and mariadb pods get a pod IP and turn Ready', async () => {
    const t0 = Date.now();
    api.create({ metadata: { name: 'web-0' }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } });
    api.create({
      metadata: { name: 'db-0' },
      spec: { containers: [{ name: 'mariadb', image: 'mariadb:10.11', ports: [{ containerPort: 3306 }], env: [{ name: 'MARIADB_ROOT_PASSWORD', value: 'lab' }] }] },
    });
    await waitFor('web-0 Ready', () => isReady(api.status('web-0')));
    measured['nginx: pod created -> Ready'] = `${Date.now() - t0} ms`;
    await waitFor('db-0 Ready', () => isReady(api.status('db-0')));
    measured['mariadb: pod created -> Ready (incl. datadir)'] = `${Date.now() - t0} ms`;
    for (const name of ['web-0', 'db-0']) {
      const s = api.status(name)!;
      assert.is(s.phase, 'Running');
      assert.match(s.podIP ?? '', /^10\.244\.7\.\d+$/);
      assert.equal(s.podIPs, [{ ip: s.podIP }]);
      assert.is(s.hostIP, '192.168.49.2');
      assert.equal(s.conditions!.map((c) => `${c.type}=${c.status}`).sort(), [
        'ContainersReady=True', 'Initialized=True', 'PodReadyToStartContainers=True', 'PodScheduled=True', 'Ready=True',
      ]);
      const cs = s.containerStatuses![0];
      assert.equal([cs.ready, cs.restartCount, cs.started, !!cs.state?.running?.startedAt], [true, 0, true, true]);
    }
    const tmpl = logs.map((l) => /datadir template (\d+) ms, datadir copy (\d+) ms/.exec(l)).find(Boolean);
    if (tmpl) measured['mariadb-install-db (template, once per lab) / copy per pod'] = `${tmpl[1]} ms / ${tmpl[2]} ms`;
    const ready = logs.map((l) => /db-0: container mariadb ready \((\d+) ms after start\)/.exec(l)).find(Boolean);
    if (ready) measured['mariadbd: process start -> port answers'] = `${ready[1]} ms`;
  });

  test('the hostname inside a pod is the pod name, the host keeps its own', async () => {
    assert.is((await inPod('web-0', 'nginx', ['hostname'])).stdout.trim(), 'web-0');
    assert.is((await inPod('db-0', 'mariadb', ['hostname'])).stdout.trim(), 'db-0');
    assert.is.not(hostname(), 'web-0');
  });

  test('the pod sees the cluster resolv.conf and its own hosts entry', async () => {
    const resolv = (await inPod('web-0', 'nginx', ['cat', '/etc/resolv.conf'])).stdout;
    assert.is(resolv, 'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
    const hosts = (await inPod('web-0', 'nginx', ['cat', '/etc/hosts'])).stdout;
    assert.ok(hosts.includes(`${api.status('web-0')!.podIP}\tweb-0\n`), hosts);
  });

  test('curl from the node gets nginx naming the pod and the node bridge address as client', async () => {
    const ip = api.status('web-0')!.podIP!;
    const gw = (await run(['ip', '-4', '-o', 'addr', 'show', 'cni0'])).stdout.match(/inet (\d+\.\d+\.\d+\.\d+)/)![1];
    const r = await run(['curl', '-sS', '--max-time', '5', `http://${ip}/`]);
    assert.is(r.stdout, `pod=web-0 client=${gw}\n`);
    assert.is((await run(['curl', '-sS', '--max-time', '5', `http://${ip}/hostname`])).stdout, 'web-0');
    assert.match((await run(['curl', '-sS', '--max-time', '5', `http://${ip}/clientip`])).stdout, new RegExp(`^${gw.replace(/\./g, '\\.')}:\\d+$`));
  });

  test('an agnhost netexec pod answers hostname and client IP over HTTP and UDP', async () => {
    api.create({
      metadata: { name: 'echo-0' },
      spec: { containers: [{ name: 'netexec', image: 'registry.k8s.io/e2e-test-images/agnhost:2.47', args: ['netexec', '--http-port=8080', '--udp-port=8081'], ports: [{ containerPort: 8080 }] }] },
    });
    await waitFor('echo-0 Ready', () => isReady(api.status('echo-0')), 30_000);
    const ip = api.status('echo-0')!.podIP!;
    const gw = (await run(['ip', '-4', '-o', 'addr', 'show', 'cni0'])).stdout.match(/inet (\d+\.\d+\.\d+\.\d+)/)![1];
    assert.is((await run(['curl', '-sS', '--max-time', '5', `http://${ip}:8080/hostname`])).stdout, 'echo-0');
    assert.match((await run(['curl', '-sS', '--max-time', '5', `http://${ip}:8080/clientip`])).stdout, new RegExp(`^${gw.replace(/\./g, '\\.')}:\\d+$`));
    const sock = createSocket('udp4');
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no UDP answer from netexec')), 5000);
        sock.on('message', (m) => {
          clearTimeout(timer);
          resolve(m.toString());
        });
        sock.send('hostname', 8081, ip);
      });
      assert.is(answer, 'echo-0');
    } finally {
      sock.close();
    }
  });

  test('mariadb answers root@% with the password from env, as the pod', async () => {
    const ip = api.status('db-0')!.podIP!;
    const r = await run(['mariadb', '-h', ip, '-uroot', '-plab', '-N', '-B', '-e', 'select @@hostname']);
    assert.is(r.stdout.trim(), 'db-0');
    const bad = await run(['mariadb', '-h', ip, '-uroot', '-pwrong', '-e', 'select 1'], { allowFailure: true });
    assert.match(bad.stderr, /Access denied/);
    const rss = readFileSync(`/proc/${pid('db-0', 'mariadb')}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)![1];
    measured['mariadbd RSS (idle, one connection served)'] = `${Math.round(Number(rss) / 1024)} MB`;
  });

  test('Ready follows the port: a REJECT in the pod makes it unready, removing it ready again', async () => {
    const rule = ['INPUT', '-p', 'tcp', '--dport', '80', '-j', 'REJECT', '--reject-with', 'tcp-reset'];
    await run(podExecArgv(pid('web-0', 'nginx'), ['iptables', '-A', ...rule]));
    await waitFor('web-0 not Ready', () => !isReady(api.status('web-0')), 15_000);
    assert.is(api.status('web-0')!.containerStatuses![0].ready, false);
    assert.is(api.status('web-0')!.phase, 'Running');
    await run(podExecArgv(pid('web-0', 'nginx'), ['iptables', '-D', ...rule]));
    await waitFor('web-0 Ready again', () => isReady(api.status('web-0')), 15_000);
  });

  test('a killed container is restarted with back-off and restartCount 1', async () => {
    const before = pid('web-0', 'nginx');
    process.kill(before, 'SIGKILL');
    await waitFor('nginx restarted', () => api.status('web-0')?.containerStatuses?.[0].restartCount === 1 && isReady(api.status('web-0')), 20_000);
    const after = pid('web-0', 'nginx');
    assert.is.not(after, before);
    assert.ok(processAlive(after));
    const cs = api.status('web-0')!.containerStatuses![0];
    assert.is(cs.lastState?.terminated?.exitCode, 137);
    assert.is((await inPod('web-0', 'nginx', ['hostname'])).stdout.trim(), 'web-0');
    // The killed master's worker went with it: left alone it keeps :80, answers
    // the readiness probe and makes every restarted master fail to bind.
    const ino = netnsInode(netnsPath(podNetns(prefix, 'default', 'web-0')))!;
    assert.equal(containerLeftovers(before, ino), [], 'no process of the killed container is left in the pod');
    assert.is(containerLeftovers(after, ino).length, 1, 'the restarted master runs its own worker');
  });

  test('a restarted kubelet adopts running pods; cluster DNS from dnsmasq resolves services by search path', async () => {
    api.create({ metadata: { name: 'dns-0', namespace: 'default' }, spec: { containers: [{ name: 'coredns', image: 'registry.k8s.io/coredns/coredns:v1.11.1', args: ['-conf', '/etc/coredns/Corefile'] }] } });
    await waitFor('dns-0 Ready', () => isReady(api.status('dns-0')));
    const dnsIP = api.status('dns-0')!.podIP!;
    const dbIP = api.status('db-0')!.podIP!;
    const pids = { web: pid('web-0', 'nginx'), db: pid('db-0', 'mariadb') };

    await kubelet.stop();
    kubelet = await start({ ...opts, dnsIP });
    await kubelet.settled();
    assert.is(pid('web-0', 'nginx'), pids.web);
    assert.is(pid('db-0', 'mariadb'), pids.db);
    assert.ok(logs.some((l) => l === 'default/db-0: adopted container mariadb (pid ' + pids.db + ')'));
    assert.is(api.status('web-0')!.containerStatuses![0].restartCount, 1);
    assert.ok(isReady(api.status('web-0')) && isReady(api.status('db-0')), 'adopted pods stay Ready');

    await writeFile(join(opts.dnsHostsDir, 'default_db-service'), `${dbIP} db-service.default.svc.cluster.local\n`);
    api.create({ metadata: { name: 'client' }, spec: { containers: [{ name: 'client', image: 'debian:12', command: ['sleep', 'infinity'] }] } });
    await waitFor('client Ready', () => isReady(api.status('client')));
    for (const name of ['db-service', 'db-service.default', 'db-service.default.svc.cluster.local']) {
      const r = await waitFor(`${name} resolving`, async () => {
        const g = await inPod('client', 'client', ['getent', 'hosts', name]);
        return g.code === 0 && g;
      }, 10_000);
      assert.is(r.stdout.split(/\s+/)[0], dbIP, name);
    }
    assert.is.not((await inPod('client', 'client', ['getent', 'hosts', 'nope.default.svc.cluster.local'])).code, 0);
    const sql = await inPod('client', 'client', ['mariadb', '-h', 'db-service', '-uroot', '-plab', '-N', '-B', '-e', 'SELECT @@hostname']);
    assert.is(sql.stdout.trim(), 'db-0', sql.stderr);
  });

  test('restartPolicy: Always crash-loops with back-off, Never ends Failed, OnFailure with exit 0 ends Succeeded', async () => {
    const shell = (name: string, restartPolicy: 'Always' | 'Never' | 'OnFailure', code: number) =>
      api.create({ metadata: { name }, spec: { restartPolicy, containers: [{ name: 'sh', image: 'busybox', command: ['sh', '-c', `exit ${code}`] }] } });
    shell('crash', 'Always', 1);
    shell('once', 'Never', 3);
    shell('done', 'OnFailure', 0);
    await waitFor('crash restarted twice', () => (api.status('crash')?.containerStatuses?.[0].restartCount ?? 0) >= 2, 20_000);
    const crash = api.status('crash')!.containerStatuses![0];
    assert.is(crash.lastState?.terminated?.exitCode, 1);
    await waitFor('once Failed', () => api.status('once')?.phase === 'Failed', 10_000);
    assert.equal(api.status('once')!.containerStatuses![0].state?.terminated?.exitCode, 3);
    assert.is(api.status('once')!.containerStatuses![0].restartCount, 0);
    await waitFor('done Succeeded', () => api.status('done')?.phase === 'Succeeded', 10_000);
    await waitFor('crash in CrashLoopBackOff', () => api.status('crash')?.containerStatuses?.[0].state?.waiting?.reason === 'CrashLoopBackOff', 10_000);
    for (const n of ['crash', 'once', 'done']) api.markDeleted(n);
    await waitFor('shell pods deleted', () => ['crash', 'once', 'done'].every((n) => api.deleted.includes(`default/${n}`)), 20_000);
  });

  test('an unknown image is reported on the pod, with no sandbox made', async () => {
    api.create({ metadata: { name: 'odd' }, spec: { containers: [{ name: 'c', image: 'quay.io/acme/frobnicator:2' }] } });
    await waitFor('odd status', () => api.status('odd'));
    const s = api.status('odd')!;
    assert.is(s.phase, 'Pending');
    assert.is(s.containerStatuses![0].state?.waiting?.reason, 'ErrImagePull');
    assert.match(s.containerStatuses![0].state!.waiting!.message!, /no local program for image "quay.io\/acme\/frobnicator:2"/);
    assert.not.ok(existsSync(netnsPath(podNetns(prefix, 'default', 'odd'))));
  });

  test('through the lab apiserver: a pod runs, turns Ready, joins its Service, and a graceful DELETE is confirmed', async () => {
    const sock = join(state, 'apiserver.sock');
    const srv = await runApiServer({
      ...parseApiServerFlags([
        '--bind-address=127.0.0.1', '--secure-port=0', `--unix-socket=${sock}`, `--state-dir=${join(state, 'controlplane')}`,
        // The control plane (and so CoreDNS) on a node without a kubelet here: only our pods run.
        '--nodes=node-02=192.168.49.3=10.244.7.0/24,node-cp=192.168.49.9=10.244.9.0/24', '--control-plane-node=node-cp',
        `--dns-hosts-dir=${opts.dnsHostsDir}`, '--service-cluster-ip-range=10.96.0.0/12', '--service-node-port-range=30000-32767',
      ]),
      log: () => {},
    });
    const client = new ApiClient(sock);
    // node-01's pods, all unknown to this apiserver, with their sandboxes in the shared state dir.
    const containers: Record<string, string> = { 'web-0': 'nginx', 'db-0': 'mariadb', 'dns-0': 'coredns', client: 'client', 'echo-0': 'netexec' };
    const node01 = Object.entries(containers).map(([name, c]) => ({ name, c, pid: pid(name, c), ino: netnsInode(netnsPath(podNetns(prefix, 'default', name)))! }));
    const k2 = await start({ ...opts, nodeName: 'node-02', nodeIP: '192.168.49.3', api: sock }, true);
    try {
      // A second node's kubelet sharing the state dir leaves node-01's pods
      // alone, also once it has settled and ticked a few times.
      await k2.settled();
      await sleep(1500);
      assert.equal([...k2.workers.keys()], []);
      for (const p of node01) {
        assert.ok(processAlive(p.pid, p.ino), `node-01 pod ${p.name} (pid ${p.pid}) untouched by node-02 kubelet`);
        assert.is(pid(p.name, p.c), p.pid, `${p.name} not restarted`);
        assert.is((await readSandbox(podDir(state, 'default', p.name)))?.nodeName, 'node-01', `${p.name} sandbox.json kept`);
        assert.ok(isNetnsMounted(netnsPath(podNetns(prefix, 'default', p.name))), `${p.name} netns kept`);
      }
      const path = '/api/v1/namespaces/default/pods/web-api';
      await client.create('/api/v1/namespaces/default/pods', {
        apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-api', labels: { app: 'web-api' } },
        spec: { nodeName: 'node-02', containers: [{ name: 'nginx', image: 'docker.io/library/nginx:1.27', ports: [{ containerPort: 80 }] }] },
      });
      await client.create('/api/v1/namespaces/default/services', {
        apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-api' }, spec: { selector: { app: 'web-api' }, ports: [{ port: 80 }] },
      });
      const pod = await waitFor('web-api Ready in the API', async () => {
        const p = await client.get<Pod>(path);
        return isReady(p.status) && p;
      }, 30_000);
      const ip = pod.status!.podIP!;
      assert.is(pod.status!.hostIP, '192.168.49.3');
      assert.is((await run(['curl', '-sS', '--max-time', '5', `http://${ip}/`])).stdout.split(' ')[0], 'pod=web-api');
      const slice = await waitFor('an EndpointSlice with the ready pod', async () => {
        const l = await client.list<EndpointSlice>('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', { labelSelector: 'kubernetes.io/service-name=web-api' });
        const ep = l.items[0]?.endpoints?.find((e) => e.addresses.includes(ip));
        return ep?.conditions?.ready && ep;
      }, 10_000);
      assert.is(slice.nodeName, 'node-02');

      const t0 = Date.now();
      await client.delete(path); // default grace: the kubelet stops the pod and confirms
      await waitFor('web-api gone from the API', async () => (await client.getOrUndefined(path)) === undefined, 15_000);
      measured['graceful DELETE through the apiserver -> object gone'] = `${Date.now() - t0} ms`;
      assert.not.ok(existsSync(netnsPath(podNetns(prefix, 'default', 'web-api'))));
      assert.not.ok(existsSync(podDir(state, 'default', 'web-api')));
    } finally {
      await k2.stop();
      await srv.close();
    }
  });

  test('deleting pods stops every process and removes netns, /etc/netns, pod dir, then the API object', async () => {
    const names = ['web-0', 'db-0', 'dns-0', 'client', 'echo-0', 'odd'];
    const inodes = names.map((n) => netnsInode(netnsPath(podNetns(prefix, 'default', n)))).filter((x): x is number => x !== undefined);
    const pids = names.flatMap((n) => ['nginx', 'mariadb', 'coredns', 'client', 'netexec'].map((c) => readContainerPid(podDir(state, 'default', n), c))).filter((p): p is number => !!p);
    assert.is(inodes.length, 5);
    const t0 = Date.now();
    for (const n of names) api.markDeleted(n);
    await waitFor('all deleted', () => names.every((n) => api.deleted.includes(`default/${n}`)), 30_000);
    measured['delete of 6 pods (TERM, CNI DEL, netns del)'] = `${Date.now() - t0} ms`;
    for (const n of names) {
      const ns = podNetns(prefix, 'default', n);
      assert.not.ok(existsSync(netnsPath(ns)), `netns ${ns}`);
      assert.not.ok(existsSync(netnsEtcDir(ns)), `/etc/netns/${ns}`);
      assert.not.ok(existsSync(podDir(state, 'default', n)), `pod dir of ${n}`);
    }
    for (const p of pids) assert.not.ok(processAlive(p), `pid ${p}`);
    for (const ino of inodes) assert.equal(processesInNetns(ino), []);
    assert.equal(readdirSync(join(state, 'cni', 'ipam', 'svclab')).filter((f) => /^\d/.test(f)), [], 'host-local released every IP');
  });

  test.after(() => {
    console.log('\n  measured:');
    for (const [k, v] of Object.entries(measured)) console.log(`    ${k}: ${v}`);
  });

  test.run();
}

if (INNER) {
  inner();
} else {
  const skip = await preconditions();
  if (skip) {
    console.log(`SKIP kubelet-pod: ${skip}`);
    test.skip('kubelet runs real pods (skipped: see above)', () => {});
    test.run();
  } else {
    process.exitCode = await outer();
  }
}
