// diffIpvs: a sync touches only what changed; real servers leave gracefully.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diffIpvs, isNoop, type IpvsKernelState } from '../../../src/proxy/ipvs/diff.ts';
import { parseIpsetSave, parseIpvsadmList, parseIpvsadmSave } from '../../../src/proxy/ipvs/parse.ts';
import { renderIpvs } from '../../../src/proxy/ipvs/render.ts';
import { formatIpvsadmList, ipsetRestoreText, ipvsadmRestoreText } from '../../../src/proxy/ipvs/text.ts';
import type { IpvsRuleset, VirtualServer } from '../../../src/proxy/ipvs/types.ts';
import { ep, NODE, settings, state, svc } from './fixtures.ts';
import { sampleSettings, sampleState } from './sample.ts';

/** The kernel as it would look after applying `r` (round-tripped through the tools' text formats). */
function kernelAfter(r: IpvsRuleset): IpvsKernelState {
  return {
    virtualServers: parseIpvsadmList(formatIpvsadmList(r.virtualServers)),
    ipsets: parseIpsetSave(ipsetRestoreText(r.ipsets)),
    dummyAddresses: [...r.dummyAddresses],
  };
}
const empty: IpvsKernelState = { virtualServers: [], ipsets: [], dummyAddresses: [] };
const web = (eps: ReturnType<typeof ep>[], p: Parameters<typeof svc>[3] = {}) =>
  renderIpvs(state([[svc('default', 'web', 'http', { clusterIP: '10.96.0.20', ...p }), eps]]), settings());

test('an empty kernel gets the whole ruleset: -A/-a lines, set creates and adds, addresses', () => {
  const r = renderIpvs(sampleState, sampleSettings);
  const plan = diffIpvs(empty, r);
  assert.is(plan.ipvsadm.join('\n') + '\n', ipvsadmRestoreText(r.virtualServers).split('\n').filter(Boolean).sort(byOp).join('\n') + '\n');
  assert.is(plan.ipset.filter((l) => l.startsWith('create')).length, 17);
  assert.ok(plan.ipset.includes('add KUBE-CLUSTER-IP 10.96.0.10,udp:53'));
  assert.equal(plan.addrAdd, ['10.96.0.10', '10.96.0.20', '10.96.0.30']);
  assert.equal(plan.addrDel, []);
});
// -A lines come before -a lines in a plan; within each, ipvsadm's order.
function byOp(a: string, b: string): number {
  return Number(a.startsWith('-a')) - Number(b.startsWith('-a'));
}

test('re-syncing an unchanged ruleset does nothing', () => {
  const r = renderIpvs(sampleState, sampleSettings);
  const plan = diffIpvs(kernelAfter(r), r);
  assert.ok(isNoop(plan), JSON.stringify(plan));
});

test('the -Sn format round-trips too (weights only, no counters)', () => {
  const r = renderIpvs(sampleState, sampleSettings);
  const cur = { ...kernelAfter(r), virtualServers: parseIpvsadmSave(ipvsadmRestoreText(r.virtualServers)) };
  assert.ok(isNoop(diffIpvs(cur, r)));
});

test('a new endpoint is one -a line and one KUBE-LOOP-BACK add when local', () => {
  const before = web([ep('10.244.2.7', 8080)]);
  const after = web([ep('10.244.2.7', 8080), ep('10.244.1.7', 8080, { nodeName: NODE })]);
  const plan = diffIpvs(kernelAfter(before), after);
  assert.equal(plan.ipvsadm, ['-a -t 10.96.0.20:80 -r 10.244.1.7:8080 -m -w 1']);
  assert.equal(plan.ipset, ['add KUBE-LOOP-BACK 10.244.1.7,tcp:8080,10.244.1.7']);
  assert.equal([plan.addrAdd, plan.addrDel], [[], []]);
});

test('a TCP real server with connections is drained: weight 0 now, deleted once idle', () => {
  const before = web([ep('10.244.2.7', 8080), ep('10.244.1.7', 8080)]);
  const after = web([ep('10.244.2.7', 8080)]);
  const cur = kernelAfter(before);
  cur.virtualServers[0].realServers[0].activeConn = 3; // 10.244.1.7 sorts first
  const plan1 = diffIpvs(cur, after);
  assert.equal(plan1.ipvsadm, ['-e -t 10.96.0.20:80 -r 10.244.1.7:8080 -m -w 0']);
  assert.equal(plan1.draining, ['TCP 10.96.0.20:80 -> 10.244.1.7:8080']);

  // Next sync: weight is 0, connections still open -> nothing to do yet.
  cur.virtualServers[0].realServers[0].weight = 0;
  const plan2 = diffIpvs(cur, after);
  assert.equal(plan2.ipvsadm, []);
  assert.equal(plan2.draining, ['TCP 10.96.0.20:80 -> 10.244.1.7:8080']);

  // Connections gone -> delete.
  cur.virtualServers[0].realServers[0].activeConn = 0;
  cur.virtualServers[0].realServers[0].inactConn = 0;
  assert.equal(diffIpvs(cur, after).ipvsadm, ['-d -t 10.96.0.20:80 -r 10.244.1.7:8080']);
});

test('an idle TCP real server, and any UDP one, is deleted at once (expire_nodest_conn handles UDP)', () => {
  assert.equal(diffIpvs(kernelAfter(web([ep('10.244.2.7', 8080), ep('10.244.1.7', 8080)])), web([ep('10.244.2.7', 8080)])).ipvsadm,
    ['-d -t 10.96.0.20:80 -r 10.244.1.7:8080']);
  const udp = (eps: ReturnType<typeof ep>[]) => web(eps, { protocol: 'UDP', port: 53 });
  const cur = kernelAfter(udp([ep('10.244.2.7', 53), ep('10.244.1.7', 53)]));
  cur.virtualServers[0].realServers[0].activeConn = 5;
  assert.equal(diffIpvs(cur, udp([ep('10.244.2.7', 53)])).ipvsadm, ['-d -u 10.96.0.20:53 -r 10.244.1.7:53']);
});

test('an endpoint that comes back while draining is restored to weight 1', () => {
  const r = web([ep('10.244.1.7', 8080)]);
  const cur = kernelAfter(r);
  cur.virtualServers[0].realServers[0].weight = 0;
  assert.equal(diffIpvs(cur, r).ipvsadm, ['-e -t 10.96.0.20:80 -r 10.244.1.7:8080 -m -w 1']);
});

test('affinity turned on edits the virtual server in place (-E), keeping its real servers', () => {
  const cur = kernelAfter(web([ep('10.244.1.7', 8080)]));
  const plan = diffIpvs(cur, web([ep('10.244.1.7', 8080)], { sessionAffinityClientIP: true, stickyMaxAgeSeconds: 60 }));
  assert.equal(plan.ipvsadm, ['-E -t 10.96.0.20:80 -s rr -p 60']);
});

test('a deleted service: -D its virtual server, del its set entries, remove its address from kube-ipvs0', () => {
  const before = renderIpvs(sampleState, sampleSettings);
  const st = { ...sampleState, services: new Map(sampleState.services), endpoints: new Map(sampleState.endpoints) };
  st.services.delete('default/db');
  const plan = diffIpvs(kernelAfter(before), renderIpvs(st, sampleSettings));
  assert.equal(plan.ipvsadm, ['-D -t 10.96.0.30:3306']);
  assert.equal(plan.ipset, ['del KUBE-CLUSTER-IP 10.96.0.30,tcp:3306', 'del KUBE-IPVS-IPS 10.96.0.30']);
  assert.equal(plan.addrDel, ['10.96.0.30']);
});

test('a single-host source range does not churn although ipset lists it without /32', () => {
  const r = renderIpvs(state([[svc('ns1', 'lb', 'p80', { clusterIP: '10.96.0.40', loadBalancerVIPs: ['1.2.3.4'], loadBalancerSourceRanges: ['10.0.0.1/32'] }), []]]), settings());
  const cur = kernelAfter(r);
  cur.ipsets = parseIpsetSave(ipsetRestoreText(r.ipsets).replace('10.0.0.1/32', '10.0.0.1'));
  assert.ok(isNoop(diffIpvs(cur, r)));
});

test('a set that exists with another type is reported, not silently re-created', () => {
  const r = renderIpvs(state([]), settings());
  const cur: IpvsKernelState = { ...empty, ipsets: [{ name: 'KUBE-NODE-PORT-TCP', type: 'hash:ip,port', entries: [] }] };
  const plan = diffIpvs(cur, r);
  assert.equal(plan.conflicts, ['ipset KUBE-NODE-PORT-TCP exists with type hash:ip,port; kube-proxy needs bitmap:port']);
  assert.not.ok(plan.ipset.some((l) => l.includes('KUBE-NODE-PORT-TCP ')));
});

test('foreign IPv6 virtual servers are left alone (this proxier is IPv4)', () => {
  const v6: VirtualServer = { proto: 'TCP', address: '2001:db8::1', port: 80, scheduler: 'rr', flags: [], realServers: [] };
  const plan = diffIpvs({ ...empty, virtualServers: [v6] }, renderIpvs(state([]), settings()));
  assert.equal(plan.ipvsadm, []);
});

test.run();
