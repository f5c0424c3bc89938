// The userspace proxier end to end on the real kernel, in throwaway namespaces:
// a "node" namespace runs the proxy and two backends, a "pod" namespace behind
// a veth is the client. Real portal rules send VIP:port to the proxy's
// listener (REDIRECT from the pod, DNAT from the node itself, NodePort via
// addrtype LOCAL) and the proxy forwards to the backends.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/util/exec.ts';
import { ep, svc } from '../proxy/ipvs/fixtures.ts';
import { hostNetfilterSnapshot, preconditions, throwawayNetns, type ThrowawayNetns } from './helpers/throwaway-netns.ts';

const skip = await preconditions();
const hasCurl = (await run(['curl', '--version'], { allowFailure: true })).code === 0;
const repo = fileURLToPath(new URL('../..', import.meta.url));
const fixture = fileURLToPath(new URL('./helpers/userspace-node.ts', import.meta.url));

const NODE_IP = '10.244.0.1';
const POD_IP = '10.244.0.2';

async function startProxy(node: ThrowawayNetns, config: unknown): Promise<{ child: ChildProcess; ports: Record<string, number> }> {
  const child = spawn('ip', ['netns', 'exec', node.ns, process.execPath, '--import', 'tsx', fixture, JSON.stringify(config)], {
    cwd: repo, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`proxy fixture did not start: ${err}`)), 20000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) (clearTimeout(t), resolve(out.split('\n')[0]));
    });
    child.on('exit', (code) => (clearTimeout(t), reject(new Error(`proxy fixture exited ${code}: ${err}`))));
  });
  return { child, ports: JSON.parse(line).ports };
}

async function stopProxy(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.stdin!.end();
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

const curl = async (ns: ThrowawayNetns, url: string) => (await ns.exec(['curl', '-s', '--max-time', '5', url])).stdout;

if (skip || !hasCurl) {
  console.log(`SKIP userspace-netns: ${skip ?? 'curl is not installed'}`);
} else {
  test('portal rules redirect VIP, NodePort and node-local traffic through the userspace proxy to the backends', async () => {
    const hostBefore = await hostNetfilterSnapshot();
    const node = await throwawayNetns('usn');
    const pod = await throwawayNetns('usp');
    let child: ChildProcess | undefined;
    try {
      // A veth made directly across the two namespaces; nothing in the host namespace.
      await node.exec(['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod.ns]);
      await node.exec(['ip', 'addr', 'add', `${NODE_IP}/24`, 'dev', 'eth0']);
      await node.exec(['ip', 'link', 'set', 'eth0', 'up']);
      for (const ip of ['10.244.1.5', '10.244.1.6']) await node.exec(['ip', 'addr', 'add', `${ip}/32`, 'dev', 'lo']);
      // The node's own traffic to a VIP needs a route before OUTPUT's DNAT can see it.
      await node.exec(['ip', 'route', 'add', '10.96.0.0/12', 'dev', 'eth0']);
      await pod.exec(['ip', 'addr', 'add', `${POD_IP}/24`, 'dev', 'eth0']);
      await pod.exec(['ip', 'link', 'set', 'eth0', 'up']);
      await pod.exec(['ip', 'route', 'add', 'default', 'via', NODE_IP]);

      const services = [
        [svc('default', 'web', 'http', { clusterIP: '10.96.0.20', port: 80, nodePort: 30080 }), [ep('10.244.1.5', 8080), ep('10.244.1.6', 8080)]],
        [svc('default', 'sticky', 'http', { clusterIP: '10.96.0.21', port: 80, sessionAffinityClientIP: true, stickyMaxAgeSeconds: 60 }), [ep('10.244.1.5', 8080), ep('10.244.1.6', 8080)]],
        [svc('kube-system', 'kube-dns', 'dns', { clusterIP: '10.96.0.10', port: 53, protocol: 'UDP' }), [ep('10.244.1.5', 5353)]],
      ];
      const started = await startProxy(node, {
        nodeIPs: [NODE_IP],
        http: [{ ip: '10.244.1.5', port: 8080, name: 'A' }, { ip: '10.244.1.6', port: 8080, name: 'B' }],
        udp: [{ ip: '10.244.1.5', port: 5353, name: 'dns-A' }],
        services,
      });
      child = started.child;
      const webPort = started.ports['default/web:http'];

      const save = (await node.exec(['iptables-save', '-t', 'nat'])).stdout;
      assert.match(save, `-A KUBE-PORTALS-CONTAINER -d 10.96.0.20/32 -p tcp -m comment --comment "default/web:http" -m tcp --dport 80 -j REDIRECT --to-ports ${webPort}`);
      assert.match(save, '-A PREROUTING -m comment --comment "handle ClusterIPs; NOTE: this must be before the NodePort rules" -j KUBE-PORTALS-CONTAINER');

      // From the pod: PREROUTING -> KUBE-PORTALS-CONTAINER -> REDIRECT -> proxy -> backends in turn.
      const fromPod = [];
      for (let i = 0; i < 4; i++) fromPod.push(await curl(pod, 'http://10.96.0.20/'));
      assert.equal(fromPod, ['A', 'B', 'A', 'B']);

      // NodePort from the pod: KUBE-NODEPORT-CONTAINER (dst-type LOCAL).
      assert.ok(['A', 'B'].includes(await curl(pod, `http://${NODE_IP}:30080/`)));

      // From the node itself: OUTPUT -> KUBE-PORTALS-HOST -> DNAT to the node IP and proxy port.
      assert.ok(['A', 'B'].includes(await curl(node, 'http://10.96.0.20/')));

      // ClientIP affinity: the pod always lands on the same backend.
      const sticky = new Set<string>();
      for (let i = 0; i < 4; i++) sticky.add(await curl(pod, 'http://10.96.0.21/'));
      assert.is(sticky.size, 1);

      // UDP through the portal and back (conntrack reverses the REDIRECT on the reply).
      const udp = await pod.exec([process.execPath, '-e', `
        const s = require('dgram').createSocket('udp4');
        const t = setTimeout(() => { console.log('timeout'); process.exit(1); }, 3000);
        s.on('message', (m) => { console.log(String(m)); clearTimeout(t); s.close(); });
        s.send('ping', 53, '10.96.0.10');`], { allowFailure: true });
      assert.is(udp.stdout.trim(), 'dns-A:ping');
    } finally {
      if (child) await stopProxy(child);
      await pod.destroy();
      await node.destroy();
    }
    assert.is(await hostNetfilterSnapshot(), hostBefore, 'the host netns is untouched');
  });

  test.run();
}
