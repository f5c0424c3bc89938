// `svclab trace` on real labs through the CLI: a pod → the database ClusterIP,
// and the external client → a NodePort, in iptables and nftables mode. The
// chain walk must show (KUBE-SERVICES → KUBE-SVC → KUBE-SEP → DNAT, with
// KUBE-NODEPORTS → KUBE-EXT for the NodePort; the service-ips /
// service-nodeports element → service chain → endpoint chain → dnat in
// nftables), and the pod that answered must be one of the Service's endpoints.
// One lab at a time (shared 2-core machine), always taken down.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { cannotRun, labCopy, svclab, uniqueLabName } from './helpers/svclab-cli.ts';

const why = cannotRun() ?? (existsSync('/usr/sbin/nft') ? undefined : '/usr/sbin/nft is missing (nftables mode)');

interface Step { chain: string; target?: string; depth: number; verdict?: string; mapHit?: { map: string; key: string }; effect?: string }
interface Trace {
  mode: string;
  connection: { ok: boolean };
  endpoints: { ip: string; port: number; podName: string }[];
  nodes: { node: string; iptables?: { hooks: { hook: string; steps: Step[] }[] }; nft?: { hooks: { chain: string; steps: Step[] }[] }; conntrack?: unknown }[];
  answered?: { pod?: string; ip: string; port: number; isEndpoint?: boolean };
}

async function trace(lab: string, from: string, to: string): Promise<Trace> {
  const r = await svclab(['trace', '--lab', lab, from, to, '-o', 'json']);
  assert.is(r.code, 0, `svclab trace ${from} ${to} exited ${r.code}:\n${r.stderr}\n${r.stdout.slice(0, 2000)}`);
  return JSON.parse(r.stdout) as Trace;
}

/** "KUBE-SERVICES>KUBE-SVC-…" with hashes cut: the jump targets of one hook in order. */
function iptablesWalk(t: Trace, hook: string): string[] {
  const h = t.nodes[0].iptables?.hooks.find((x) => x.hook === hook);
  return (h?.steps ?? []).map((s) => (s.target ?? '').replace(/^(KUBE-(?:SVC|SEP|EXT|SVL))-[A-Z0-9]{16}$/, '$1'));
}

function assertAnsweredByEndpoint(t: Trace): void {
  assert.ok(t.connection.ok, 'the connection failed');
  assert.ok(t.answered, 'no answering pod found');
  assert.ok(t.answered!.isEndpoint, `answered by ${t.answered!.ip}:${t.answered!.port}, not an endpoint`);
  assert.ok(t.endpoints.some((e) => e.podName === t.answered!.pod), `${t.answered!.pod} is not among ${t.endpoints.map((e) => e.podName).join(', ')}`);
}

async function withLab(file: string, mode: string, fn: (name: string) => Promise<void>): Promise<void> {
  const name = uniqueLabName(`tr-${mode.slice(0, 3)}`);
  try {
    const up = await svclab(['up', labCopy(file, name), '--mode', mode]);
    assert.is(up.code, 0, `up failed:\n${up.stderr}`);
    await fn(name);
  } finally {
    await svclab(['down', name]);
  }
}

if (why) {
  console.log(`\n  SKIP test/integration/trace.test.ts: ${why}\n`);
  test.skip('svclab trace in iptables and nftables mode', () => {});
} else {
  test('iptables: pod → db-service:3306 walks KUBE-SERVICES → KUBE-SVC → KUBE-SEP → DNAT; the text view says the same', async () => {
    const t0 = Date.now();
    await withLab('clusterip-db.yaml', 'iptables', async (lab) => {
      const t = await trace(lab, 'app=client', 'db-service:3306');
      assert.is(t.mode, 'iptables');
      assert.equal(iptablesWalk(t, 'PREROUTING'), ['KUBE-SERVICES', 'KUBE-SVC', 'KUBE-SEP', 'DNAT']);
      assertAnsweredByEndpoint(t);
      assert.ok(t.nodes[0].conntrack, 'no conntrack entry for the connection');
      const text = await svclab(['trace', '--lab', lab, 'client-b', 'db-service']);
      assert.is(text.code, 0, text.stderr);
      assert.match(text.stdout, /nat PREROUTING/);
      assert.match(text.stdout, /KUBE-SVC-[A-Z0-9]{16}\s+"default\/db-service cluster IP"/);
      assert.match(text.stdout, /→ DNAT to 10\.244\.\d+\.\d+:3306/);
      assert.match(text.stdout, /✓ answered by pod db-/);
      // eslint-disable-next-line no-control-regex
      assert.not.match(text.stdout, /\u001B\[/, 'colour codes with NO_COLOR set');
    });
    console.log(`    iptables ClusterIP trace: ${((Date.now() - t0) / 1000).toFixed(1)}s with up/down`);
  });

  test('iptables: external → node-01:30007 walks KUBE-NODEPORTS → KUBE-EXT → KUBE-SVC → KUBE-SEP → DNAT, then MASQUERADE', async () => {
    await withLab('nodeport-web.yaml', 'iptables', async (lab) => {
      const t = await trace(lab, 'external', 'node-01:30007');
      assert.equal(iptablesWalk(t, 'PREROUTING'), ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-EXT', 'KUBE-MARK-MASQ', 'MARK', 'KUBE-SVC', 'KUBE-SEP', 'DNAT']);
      assert.ok(iptablesWalk(t, 'POSTROUTING').includes('MASQUERADE'), `POSTROUTING: ${iptablesWalk(t, 'POSTROUTING')}`);
      assertAnsweredByEndpoint(t);
    });
  });

  test('nftables: pod → db-service:3306 hits the service-ips element, the service chain, numgen and the endpoint chain\'s dnat', async () => {
    await withLab('clusterip-db.yaml', 'nftables', async (lab) => {
      const t = await trace(lab, 'app=client', 'db-service:3306');
      assert.is(t.mode, 'nftables');
      const nat = t.nodes[0].nft?.hooks.find((h) => h.chain === 'nat-prerouting');
      assert.ok(nat, `no nat-prerouting in the trace: ${JSON.stringify(t.nodes[0])}`);
      const chains = nat!.steps.map((s) => s.chain.replace(/^(service|endpoint)-.*/, '$1'));
      assert.equal([...new Set(chains)], ['nat-prerouting', 'services', 'service', 'endpoint']);
      const hit = nat!.steps.find((s) => s.mapHit)!;
      assert.equal(hit.mapHit!.map, 'service-ips');
      assert.match(hit.mapHit!.key, /^10\.\d+\.\d+\.\d+ \. tcp \. 3306$/);
      assert.ok(nat!.steps.some((s) => /^DNAT to 10\.244\./.test(s.effect ?? '')));
      assertAnsweredByEndpoint(t);
    });
  });

  test('nftables: external → node-01:30007 hits the service-nodeports element, the external chain, then service → endpoint → dnat', async () => {
    await withLab('nodeport-web.yaml', 'nftables', async (lab) => {
      const t = await trace(lab, 'external', 'node-01:30007');
      const nat = t.nodes[0].nft?.hooks.find((h) => h.chain === 'nat-prerouting');
      assert.ok(nat, 'no nat-prerouting in the trace');
      const chains = [...new Set(nat!.steps.map((s) => s.chain.replace(/^(service|endpoint|external)-.*/, '$1')))];
      assert.equal(chains, ['nat-prerouting', 'services', 'external', 'mark-for-masquerade', 'service', 'endpoint']);
      assert.equal(nat!.steps.find((s) => s.mapHit)?.mapHit, { map: 'service-nodeports', key: 'tcp . 30007' });
      assertAnsweredByEndpoint(t);
    });
  });
}

test.run();
