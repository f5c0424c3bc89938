// The netns driver and the CNI layer against the real kernel and Debian's
// plugins: a lab comes up, nodes, pods and the external client reach each
// other, and `down` leaves the host exactly as it found it — also after an
// `up` that was killed half-way. Needs root.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { attach, down, up, preflight, type NetnsLayout, type NetnsLab } from '../../src/cluster/netns/driver.ts';
import { NetnsNode } from '../../src/cluster/netns/node.ts';
import { listNetns, netnsPids } from '../../src/cluster/common/namespaces.ts';
import { podNetnsName } from '../../src/cluster/common/names.ts';
import { nodeStateDir } from '../../src/cluster/common/state-dir.ts';
import { NODE_SYSCTLS } from '../../src/cluster/common/sysctls.ts';
import { run } from '../../src/util/exec.ts';
import { cniConfig, writeCniConfig } from '../../src/cni/config.ts';
import type { CniAddResult } from '../../src/cni/plugins.ts';
import { diffFingerprints, fingerprintScope, hostFingerprint, remember } from './host-fingerprint.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const helpers = fileURLToPath(new URL('./helpers', import.meta.url));

function layoutFor(lab: string): NetnsLayout {
  return {
    lab,
    nodeNetwork: '192.168.49.0/24',
    gateway: '192.168.49.1',
    nodes: [
      { name: 'node-01', ip: '192.168.49.2', podCIDR: '10.244.0.0/24' },
      { name: 'node-02', ip: '192.168.49.3', podCIDR: '10.244.1.0/24' },
      { name: 'node-03', ip: '192.168.49.4', podCIDR: '10.244.2.0/24' },
    ],
    external: { name: 'external', ip: '192.168.49.254' },
  };
}

const newLab = () => `t${randomBytes(3).toString('hex')}`;

// No ping on this machine: a TCP connect is the probe. "refused" means the
// target's kernel answered with a RST — the packet got there and back.
const PROBE = `const net=require('net');const s=net.connect({host:process.argv[1],port:Number(process.argv[2])});let d='';
s.setTimeout(1500,()=>{console.log('timeout');process.exit(0)});s.on('data',x=>d+=x);
s.on('end',()=>{console.log('reply '+d.trim());process.exit(0)});
s.on('error',e=>{console.log(e.code==='ECONNREFUSED'?'refused':e.code);process.exit(0)});`;
// Answers every connection with the client's address: shows whether anything SNATed it.
const WHOAMI = `require('net').createServer(s=>s.end(s.remoteAddress+'\\n')).listen(Number(process.argv[1]),process.argv[2])`;

async function probe(from: NetnsNode, ip: string, port: number): Promise<string> {
  return (await from.exec([process.execPath, '-e', PROBE, ip, String(port)])).stdout.trim();
}

async function waitListening(from: NetnsNode, ip: string, port: number): Promise<string> {
  let last = '';
  for (let i = 0; i < 50; i++) {
    last = await probe(from, ip, port);
    if (last.startsWith('reply')) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

/** cniAdd as the kubelet will call it: from a process inside the node's namespace. */
async function cniInNode(node: NetnsNode, req: Record<string, unknown>): Promise<string> {
  const r = await node.exec([process.execPath, '--import', 'tsx', join(helpers, 'cni-in-node.ts'), JSON.stringify(req)], { cwd: repo });
  return r.stdout;
}

async function skipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (it creates network namespaces)';
  try {
    await preflight();
  } catch (err) {
    return `preflight failed: ${(err as Error).message}`;
  }
  return undefined;
}

const skip = await skipReason();
if (skip) {
  console.log(`\n  SKIP test/integration/netns-driver.test.ts: ${skip}\n`);
  test.skip('netns driver against the real kernel', () => {});
} else {
  test('up: nodes, gateway, pods (host-gw) and the external client reach each other; down leaves the host as it was', async () => {
    const labName = newLab();
    const layout = layoutFor(labName);
    const scope = fingerprintScope(labName);
    const before = await hostFingerprint(scope);
    let lab: NetnsLab | undefined;
    try {
      const t0 = performance.now();
      const phases: string[] = [];
      lab = await up(layout, (phase) => phases.push(phase));
      const upMs = performance.now() - t0;
      assert.ok(phases.includes('node') && phases.includes('external'), phases.join(','));

      const names = (await listNetns()).filter((n) => n.startsWith(scope.prefix));
      assert.equal(names, [`svclab-${labName}-external`, `svclab-${labName}-net`, `svclab-${labName}-node-01`, `svclab-${labName}-node-02`, `svclab-${labName}-node-03`]);
      assert.equal((await attach(layout)).nodes.map((n) => n.netns), lab.nodes.map((n) => n.netns));

      // A second up of the same lab is refused and leaves the running one alone.
      let again = '';
      await up(layout).catch((e: Error & { hint?: string }) => (again = `${e.message}; ${e.hint}`));
      assert.is(again, `lab ${labName} is already up; run \`svclab down ${labName}\``);
      assert.is((await listNetns()).filter((n) => n.startsWith(scope.prefix)).length, 5);
      // Nor can a lab whose namespace names would overlap ("tX" and "tX-b") start next to it.
      let overlap = '';
      await up(layoutFor(`${labName}-b`)).catch((e: Error) => (overlap = e.message));
      assert.match(overlap, `lab ${labName}-b cannot run next to lab ${labName}`);

      const [n1, n2, n3] = lab.nodes;
      // Node sysctls are set inside the node; fingerprint checks the host's did not move.
      const keys = NODE_SYSCTLS.map(([k]) => k);
      const values = (await n1.exec(['sysctl', '-n', ...keys])).stdout.trim().split('\n');
      assert.equal(values, NODE_SYSCTLS.map(([, v]) => v));

      // node-01 reaches node-03 and the gateway (RST from their kernels), and not an absent address.
      assert.is(await probe(n1, '192.168.49.4', 9), 'refused');
      assert.is(await probe(n1, '192.168.49.1', 9), 'refused');
      assert.is.not(await probe(n1, '192.168.49.77', 9), 'refused');

      // Pods: one namespace on node-01, one on node-02, attached by the real plugins from inside the node.
      const pods: { node: NetnsNode; ns: string; added?: CniAddResult; confDir: string }[] = [];
      for (const [node, pod] of [[n1, 'a'], [n2, 'b']] as const) {
        const dir = nodeStateDir(labName, node.name);
        const spec = layout.nodes.find((n) => n.name === node.name)!;
        const confDir = join(dir, 'cni', 'net.d');
        await writeCniConfig(confDir, cniConfig({ podCIDR: spec.podCIDR, dataDir: join(dir, 'cni', 'ipam') }));
        const ns = podNetnsName(labName, 'default', pod);
        await run(['ip', 'netns', 'add', ns]);
        const out = await cniInNode(node, { op: 'add', confDir, netnsPath: `/run/netns/${ns}`, containerId: `default_${pod}`, args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: pod } });
        pods.push({ node, ns, confDir, added: JSON.parse(out) });
      }
      const [a, b] = pods;
      assert.equal({ ip: a.added!.ip, gateway: a.added!.gateway }, { ip: '10.244.0.2', gateway: '10.244.0.1' });
      assert.equal({ ip: b.added!.ip, gateway: b.added!.gateway }, { ip: '10.244.1.2', gateway: '10.244.1.1' });
      assert.match(a.added!.mac ?? '', /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      // cni0 lives in the node's namespace: the plugins ran there, not in the host's.
      assert.match((await n1.exec(['ip', '-o', 'addr', 'show', 'dev', 'cni0'])).stdout, /inet 10\.244\.0\.1\/24/);

      // Pod a on node-01 reaches pod b on node-02 over the host-gw routes, with its own source IP.
      const podA = new NetnsNode('pod-a', a.added!.ip, a.ns);
      const podB = new NetnsNode('pod-b', b.added!.ip, b.ns);
      const logs = join(nodeStateDir(labName, 'node-02'), 'logs');
      const serverB = await podB.startDaemon([process.execPath, '-e', WHOAMI, '8080', '0.0.0.0'], join(logs, 'pod-b.log'));
      assert.is(await waitListening(podA, '10.244.1.2', 8080), 'reply 10.244.0.2');
      assert.ok((await netnsPids([b.ns])).includes(serverB), 'the daemon runs inside the pod namespace');

      // The external client reaches a node; node daemons survive their starter (detached).
      await n1.startDaemon([process.execPath, '-e', WHOAMI, '8081', '192.168.49.2'], join(nodeStateDir(labName, 'node-01'), 'logs', 'whoami.log'));
      assert.is(await waitListening(lab.external, '192.168.49.2', 8081), 'reply 192.168.49.254');
      assert.is(await probe(n3, '192.168.49.2', 8081), 'reply 192.168.49.4');

      // cniDel of pod b releases its address and removes its veth.
      const ipam = join(nodeStateDir(labName, 'node-02'), 'cni', 'ipam', 'svclab');
      assert.ok((await readdir(ipam)).includes('10.244.1.2'));
      await cniInNode(n2, { op: 'del', confDir: b.confDir, netnsPath: `/run/netns/${b.ns}`, containerId: 'default_b', prevResult: b.added!.result });
      assert.not.ok((await readdir(ipam)).includes('10.244.1.2'));
      assert.is((await run(['ip', '-n', b.ns, 'link', 'show', 'eth0'], { allowFailure: true })).code, 1);

      // What the kubelet leaves for down: a pod's /etc/netns files and a mount under the state dir.
      await n1.writeFile(`/etc/netns/${a.ns}/resolv.conf`, 'nameserver 10.96.0.10\n');
      const mnt = join(nodeStateDir(labName, 'node-01'), 'pods', 'a', 'tmp');
      await n1.writeFile(join(mnt, '.keep'), '');
      await run(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'svclab-test', mnt]);

      await remember(scope);
      const t1 = performance.now();
      const report = await down(labName);
      const downMs = performance.now() - t1;
      lab = undefined;
      console.log(`\n  measured: up of 3 nodes + external ${upMs.toFixed(0)} ms, down ${downMs.toFixed(0)} ms (${report.namespaces.length} namespaces, ${report.processes} processes)`);
      assert.is(report.namespaces.length, 7); // 5 of the lab + 2 pods
      assert.ok(report.processes >= 2, `killed ${report.processes}`);
      assert.equal(report.paths, [`/etc/netns/${a.ns}`, `/var/lib/svclab/${labName}`]);
      assert.equal(report.unmounted, [mnt]);
    } finally {
      if (lab) await down(labName);
    }
    assert.equal(diffFingerprints(before, await hostFingerprint(scope)), []);
  });

  test('down cleans up after an up that was SIGKILLed half-way', async () => {
    const labName = newLab();
    const layout = layoutFor(labName);
    const scope = fingerprintScope(labName);
    const before = await hostFingerprint(scope);
    const child = spawn(process.execPath, ['--import', 'tsx', join(helpers, 'netns-up.ts'), JSON.stringify(layout)], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise((r) => child.once('exit', r));
    try {
      let seen: string[] = [];
      for (let i = 0; i < 600 && seen.length < 2; i++) {
        seen = (await listNetns()).filter((n) => n.startsWith(scope.prefix));
        if (seen.length < 2) await new Promise((r) => setTimeout(r, 10));
      }
      child.kill('SIGKILL');
      await exited;
      assert.ok(seen.length >= 2, `the second namespace never appeared; up printed: ${out}`);
      assert.not.match(out, /^up$/m, 'up finished before it was killed');
      await remember(scope);
      const report = await down(labName);
      assert.ok(report.namespaces.length >= 2 && report.namespaces.length < 5, report.namespaces.join(','));
      assert.is((await down(labName)).namespaces.length, 0, 'a second down finds nothing');
    } finally {
      child.kill('SIGKILL');
      await down(labName).catch(() => {});
    }
    assert.equal(diffFingerprints(before, await hostFingerprint(scope)), []);
  });

  test('the fingerprint sees what a lab leaves behind (so the tests above can fail)', async () => {
    const labName = newLab();
    const scope = fingerprintScope(labName);
    const before = await hostFingerprint(scope);
    const ns = `svclab-${labName}-node-01`;
    try {
      await run(['ip', 'netns', 'add', ns]);
      await new NetnsNode('node-01', '192.168.49.2', ns).startDaemon(['sleep', '600'], `/tmp/${ns}.log`);
      const diff = diffFingerprints(before, await hostFingerprint(scope))
        .map((l) => l.replace(/\d+ sleep/, 'PID sleep').replace(/^mounts: \+ .* (\/run\/netns\/\S+) .* nsfs .*$/, 'mounts: + nsfs on $1'))
        .sort();
      assert.equal(diff, [`files: + /run/netns/${ns}`, `mounts: + nsfs on /run/netns/${ns}`, `netns: + ${ns}`, 'processes: + PID sleep 600']);
    } finally {
      await down(labName);
      await run(['rm', '-f', `/tmp/${ns}.log`]);
    }
    assert.equal(diffFingerprints(before, await hostFingerprint(scope)), []);
  });
}

test.run();
