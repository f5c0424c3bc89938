// IPVS render cases taken from upstream pkg/proxy/ipvs/proxier_test.go: the same
// services and endpoints in, the same virtual servers, ipset entries and
// iptables chain shapes out.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderIpvs, nodePortIPs, sysctlsFor } from '../../../src/proxy/ipvs/render.ts';
import type { IpvsRuleset, VirtualServer } from '../../../src/proxy/ipvs/types.ts';
import { LabFileError } from '../../../src/util/errors.ts';
import { chainRules, ep, jumpsAndSets, NODE, settings, state, svc } from './fixtures.ts';

const vsMap = (r: IpvsRuleset) =>
  Object.fromEntries(r.virtualServers.map((v) => [`${v.proto} ${v.address}:${v.port}`, v.realServers.map((rs) => `${rs.address}:${rs.port}/w${rs.weight}`)]));
const entries = (r: IpvsRuleset, set: string) => r.ipsets.find((s) => s.name === set)!.entries;
const nonEmptySets = (r: IpvsRuleset) => Object.fromEntries(r.ipsets.filter((s) => s.entries.length).map((s) => [s.name, s.entries]));
const nat = (r: IpvsRuleset, chain: string) => jumpsAndSets(chainRules(r.iptables, 'nat', chain));
const filter = (r: IpvsRuleset, chain: string) => jumpsAndSets(chainRules(r.iptables, 'filter', chain));

test('TestIPv4Proxier: a ClusterIP service gets one rr virtual server with its endpoint at weight 1', () => {
  const r = renderIpvs(state([[svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.41', port: 80 }), [ep('10.180.0.1', 80)]]]), settings());
  assert.equal(vsMap(r), { 'TCP 10.20.30.41:80': ['10.180.0.1:80/w1'] });
  assert.is(r.virtualServers[0].scheduler, 'rr');
  assert.equal(r.virtualServers[0].flags, []);
  assert.equal(r.dummyAddresses, ['10.20.30.41']);
  assert.equal(nonEmptySets(r), { 'KUBE-CLUSTER-IP': ['10.20.30.41,tcp:80'], 'KUBE-IPVS-IPS': ['10.20.30.41'] });
});

test('TestIPv4Proxier: a ClusterIP service with no endpoints keeps its virtual server, with no real servers', () => {
  const r = renderIpvs(state([[svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.41' }), []]]), settings());
  assert.equal(vsMap(r), { 'TCP 10.20.30.41:80': [] });
  // Unlike iptables mode there is no REJECT: IPVS drops SYNs to a service without destinations.
  assert.not.match(r.iptables, /REJECT --reject-with/);
  assert.equal(entries(r, 'KUBE-CLUSTER-IP'), ['10.20.30.41,tcp:80']);
});

test('TestNodePortIPv4: a NodePort gets a virtual server per node address with the same real servers', () => {
  const s = svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.41', nodePort: 3001 });
  const r = renderIpvs(state([[s, [ep('10.180.0.1', 80)]]]), settings({ nodeIPs: ['100.101.102.103', '127.0.0.1'] }));
  assert.equal(vsMap(r), { 'TCP 10.20.30.41:80': ['10.180.0.1:80/w1'], 'TCP 100.101.102.103:3001': ['10.180.0.1:80/w1'] });
  // Node addresses are never bound to kube-ipvs0.
  assert.equal(r.dummyAddresses, ['10.20.30.41']);
  assert.equal(entries(r, 'KUBE-NODE-PORT-TCP'), ['3001']);
});

test('TestNodePortIPv4: a UDP NodePort goes in KUBE-NODE-PORT-UDP and the chains match upstream', () => {
  const s = svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.41', nodePort: 3001, protocol: 'UDP' });
  const r = renderIpvs(state([[s, [ep('10.180.0.1', 80)]]]), settings({ nodeIPs: ['100.101.102.103'], nodePortAddresses: ['0.0.0.0/0'] }));
  assert.equal(vsMap(r), { 'UDP 10.20.30.41:80': ['10.180.0.1:80/w1'], 'UDP 100.101.102.103:3001': ['10.180.0.1:80/w1'] });
  assert.equal(nonEmptySets(r)['KUBE-NODE-PORT-UDP'], ['3001']);
  assert.equal(nat(r, 'KUBE-NODE-PORT'), ['KUBE-MARK-MASQ KUBE-NODE-PORT-UDP']);
  assert.equal(filter(r, 'KUBE-NODE-PORT'), ['ACCEPT KUBE-HEALTH-CHECK-NODE-PORT']);
  assert.equal(nat(r, 'KUBE-SERVICES'), ['RETURN -s 127.0.0.0/8', 'KUBE-MARK-MASQ KUBE-CLUSTER-IP', 'KUBE-NODE-PORT', 'ACCEPT KUBE-CLUSTER-IP']);
});

test('TestNodePortIPv4: a NodePort without endpoints has virtual servers and no real servers', () => {
  const s = svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.41', nodePort: 3001 });
  const r = renderIpvs(state([[s, []]]), settings({ nodeIPs: ['100.101.102.103'] }));
  assert.equal(vsMap(r), { 'TCP 10.20.30.41:80': [], 'TCP 100.101.102.103:3001': [] });
});

test('TestNodePortIPv4: SCTP NodePorts use hash:ip,port entries per node IP', () => {
  const s = svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.41', nodePort: 3001, protocol: 'SCTP' });
  const r = renderIpvs(state([[s, [ep('10.180.0.1', 80)]]]), settings({ nodeIPs: ['100.101.102.103', '100.101.102.104', '100.101.102.105', '2001:db8::1:1'] }));
  assert.equal(Object.keys(vsMap(r)), ['SCTP 10.20.30.41:80', 'SCTP 100.101.102.103:3001', 'SCTP 100.101.102.104:3001', 'SCTP 100.101.102.105:3001']);
  assert.equal(entries(r, 'KUBE-NODE-PORT-SCTP-HASH'), ['100.101.102.103,sctp:3001', '100.101.102.104,sctp:3001', '100.101.102.105,sctp:3001']);
  assert.match(r.iptables, '-A KUBE-NODE-PORT -p sctp -m comment --comment "Kubernetes nodeport SCTP port for masquerade purpose with type \'hash ip:port\'" -m set --match-set KUBE-NODE-PORT-SCTP-HASH dst,dst -j KUBE-MARK-MASQ');
});

test('TestNodePortIPv4: eTP=Local keeps all endpoints on the ClusterIP and only local ones on the NodePort', () => {
  const s = svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.41', nodePort: 3001, protocol: 'SCTP', externalPolicyLocal: true });
  const r = renderIpvs(state([[s, [ep('10.180.0.1', 80, { nodeName: NODE }), ep('10.180.1.1', 80, { nodeName: 'other-node' })]]]), settings({ nodeIPs: ['100.101.102.103'] }));
  assert.equal(vsMap(r), { 'SCTP 10.20.30.41:80': ['10.180.0.1:80/w1', '10.180.1.1:80/w1'], 'SCTP 100.101.102.103:3001': ['10.180.0.1:80/w1'] });
  assert.equal(entries(r, 'KUBE-NODE-PORT-LOCAL-SCTP-HASH'), ['100.101.102.103,sctp:3001']);
  assert.equal(nat(r, 'KUBE-NODE-PORT'), ['RETURN KUBE-NODE-PORT-LOCAL-SCTP-HASH', 'KUBE-MARK-MASQ KUBE-NODE-PORT-SCTP-HASH']);
});

test('TestExternalIPs: each external IP gets a virtual server and KUBE-EXTERNAL-IP entry', () => {
  const s = svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.41', externalIPs: ['50.60.70.81', '127.0.0.1'] });
  const r = renderIpvs(state([[s, [ep('10.180.0.1', 80)]]]), settings());
  assert.is(r.virtualServers.length, 3);
  assert.equal(vsMap(r)['TCP 50.60.70.81:80'], ['10.180.0.1:80/w1']);
  assert.equal(vsMap(r)['TCP 127.0.0.1:80'], ['10.180.0.1:80/w1']);
  assert.equal(entries(r, 'KUBE-EXTERNAL-IP'), ['127.0.0.1,tcp:80', '50.60.70.81,tcp:80']);
  assert.equal(nat(r, 'KUBE-SERVICES'), [
    'RETURN -s 127.0.0.0/8', 'KUBE-MARK-MASQ KUBE-CLUSTER-IP', 'KUBE-MARK-MASQ KUBE-EXTERNAL-IP',
    'ACCEPT KUBE-EXTERNAL-IP', 'ACCEPT KUBE-EXTERNAL-IP', 'KUBE-NODE-PORT', 'ACCEPT KUBE-CLUSTER-IP',
  ]);
});

test('TestExternalIPsNoEndpoint: an external IP without endpoints has an empty virtual server', () => {
  const r = renderIpvs(state([[svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.41', externalIPs: ['50.60.70.81'] }), []]]), settings());
  assert.equal(vsMap(r), { 'TCP 10.20.30.41:80': [], 'TCP 50.60.70.81:80': [] });
});

test('an external IP that is a node address is not bound to kube-ipvs0', () => {
  const r = renderIpvs(state([[svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.41', externalIPs: ['192.168.1.10', '50.60.70.81'] }), []]]), settings({ nodeIPs: ['192.168.1.10'] }));
  assert.equal(r.dummyAddresses, ['10.20.30.41', '50.60.70.81']);
  assert.equal(entries(r, 'KUBE-IPVS-IPS'), ['10.20.30.41', '50.60.70.81']);
});

test('TestOnlyLocalExternalIPs: eTP=Local external IPs use local endpoints and KUBE-EXTERNAL-IP-LOCAL', () => {
  const s = svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.41', externalIPs: ['50.60.70.81'], nodePort: 0, externalPolicyLocal: true });
  const r = renderIpvs(state([[s, [ep('10.180.0.1', 80, { nodeName: NODE }), ep('10.180.1.1', 80, { nodeName: 'other-node' })]]]), settings());
  assert.equal(vsMap(r)['TCP 50.60.70.81:80'], ['10.180.0.1:80/w1']);
  assert.equal(vsMap(r)['TCP 10.20.30.41:80'], ['10.180.0.1:80/w1', '10.180.1.1:80/w1']);
  assert.equal(entries(r, 'KUBE-EXTERNAL-IP-LOCAL'), ['50.60.70.81,tcp:80']);
  assert.equal(entries(r, 'KUBE-EXTERNAL-IP'), []);
  // Only the ACCEPT pair: no masquerade for Local traffic.
  assert.equal(nat(r, 'KUBE-SERVICES').filter((x) => x.includes('EXTERNAL')), ['ACCEPT KUBE-EXTERNAL-IP-LOCAL', 'ACCEPT KUBE-EXTERNAL-IP-LOCAL']);
});

test('eTP=Local with no local endpoints falls back to cluster endpoints (kubernetes#97081)', () => {
  const s = svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.41', nodePort: 3001, externalPolicyLocal: true });
  const r = renderIpvs(state([[s, [ep('10.180.1.1', 80, { nodeName: 'other-node' })]]]), settings({ nodeIPs: ['100.101.102.103'] }));
  assert.equal(vsMap(r)['TCP 100.101.102.103:3001'], ['10.180.1.1:80/w1']);
});

test('TestLoadBalancer: the LB IP gets a virtual server, KUBE-LOAD-BALANCER entry and dispatch chain', () => {
  const s = svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.41', nodePort: 3001, loadBalancerVIPs: ['1.2.3.4'] });
  const r = renderIpvs(state([[s, [ep('10.180.0.1', 80)]]]), settings());
  // No node IPs (as upstream's fake proxier): 2 virtual servers.
  assert.equal(vsMap(r), { 'TCP 10.20.30.41:80': ['10.180.0.1:80/w1'], 'TCP 1.2.3.4:80': ['10.180.0.1:80/w1'] });
  assert.equal(entries(r, 'KUBE-LOAD-BALANCER'), ['1.2.3.4,tcp:80']);
  assert.equal(nat(r, 'KUBE-SERVICES'), [
    'RETURN -s 127.0.0.0/8', 'KUBE-LOAD-BALANCER KUBE-LOAD-BALANCER', 'KUBE-MARK-MASQ KUBE-CLUSTER-IP', 'KUBE-NODE-PORT',
    'ACCEPT KUBE-CLUSTER-IP', 'ACCEPT KUBE-LOAD-BALANCER',
  ]);
  assert.equal(nat(r, 'KUBE-LOAD-BALANCER'), ['KUBE-MARK-MASQ']);
  assert.equal(r.dummyAddresses, ['1.2.3.4', '10.20.30.41']);
});

test('TestOnlyLocalNodePorts: nodePortAddresses picks the node IPs; Local NodePorts RETURN before MASQ', () => {
  const s = svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.41', nodePort: 3001, externalPolicyLocal: true });
  const cfg = settings({ nodeIPs: ['100.101.102.103', '2001:db8::', '10.0.0.5'], nodePortAddresses: ['100.101.102.0/24'] });
  const r = renderIpvs(state([[s, [ep('10.180.0.1', 80, { nodeName: NODE }), ep('10.180.1.1', 80, { nodeName: 'other-node' })]]]), cfg);
  assert.is(r.virtualServers.length, 2);
  assert.equal(vsMap(r)['TCP 100.101.102.103:3001'], ['10.180.0.1:80/w1']);
  assert.equal(entries(r, 'KUBE-NODE-PORT-TCP'), ['3001']);
  assert.equal(entries(r, 'KUBE-NODE-PORT-LOCAL-TCP'), ['3001']);
  assert.equal(nat(r, 'KUBE-SERVICES'), ['RETURN -s 127.0.0.0/8', 'KUBE-MARK-MASQ KUBE-CLUSTER-IP', 'KUBE-NODE-PORT', 'ACCEPT KUBE-CLUSTER-IP']);
  assert.equal(nat(r, 'KUBE-NODE-PORT'), ['RETURN KUBE-NODE-PORT-LOCAL-TCP', 'KUBE-MARK-MASQ KUBE-NODE-PORT-TCP']);
  assert.equal(filter(r, 'KUBE-NODE-PORT'), ['ACCEPT KUBE-HEALTH-CHECK-NODE-PORT']);
  // The local endpoint is also in KUBE-LOOP-BACK for hairpin masquerade.
  assert.equal(entries(r, 'KUBE-LOOP-BACK'), ['10.180.0.1,tcp:80,10.180.0.1']);
  assert.equal(nat(r, 'KUBE-POSTROUTING')[0], 'MASQUERADE KUBE-LOOP-BACK');
});

test('"primary" in nodePortAddresses means the first node IP', () => {
  assert.equal(nodePortIPs({ nodeIPs: ['192.168.1.10', '10.0.0.5'], nodePortAddresses: ['primary'] }), ['192.168.1.10']);
  assert.equal(nodePortIPs({ nodeIPs: ['192.168.1.10', '127.0.0.1', '169.254.0.1', 'fd00::1'], nodePortAddresses: [] }), ['192.168.1.10']);
});

test('TestHealthCheckNodePort: health check node ports go in their bitmap set', () => {
  const mk = (name: string, hc: number) => svc('ns1', name, 'p80', { clusterIP: '10.20.30.41', nodePort: 3000, loadBalancerVIPs: [], externalPolicyLocal: true, healthCheckNodePort: hc });
  const r = renderIpvs(state([[mk('valid-svc1', 30000), []], [mk('valid-svc2', 30001), []]]), settings({ nodeIPs: ['100.101.102.103'] }));
  assert.equal(entries(r, 'KUBE-HEALTH-CHECK-NODE-PORT'), ['30000', '30001']);
  assert.equal(nat(r, 'KUBE-NODE-PORT'), ['RETURN KUBE-NODE-PORT-LOCAL-TCP', 'KUBE-MARK-MASQ KUBE-NODE-PORT-TCP']);
});

test('TestLoadBalancerSourceRanges: source ranges fill the FW and SOURCE-CIDR sets and the firewall chains', () => {
  const s = svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.41', loadBalancerVIPs: ['1.2.3.4'], loadBalancerSourceRanges: ['10.0.0.0/8'] });
  const r = renderIpvs(state([[s, [ep('10.180.0.1', 80)]]]), settings());
  assert.is(r.virtualServers.length, 2);
  assert.equal(nonEmptySets(r)['KUBE-LOAD-BALANCER'], ['1.2.3.4,tcp:80']);
  assert.equal(nonEmptySets(r)['KUBE-LOAD-BALANCER-FW'], ['1.2.3.4,tcp:80']);
  assert.equal(nonEmptySets(r)['KUBE-LOAD-BALANCER-SOURCE-CIDR'], ['1.2.3.4,tcp:80,10.0.0.0/8']);
  assert.equal(filter(r, 'KUBE-PROXY-FIREWALL'), ['KUBE-SOURCE-RANGES-FIREWALL KUBE-LOAD-BALANCER-FW']);
  assert.equal(filter(r, 'KUBE-SOURCE-RANGES-FIREWALL'), ['RETURN KUBE-LOAD-BALANCER-SOURCE-CIDR', 'DROP']);
  // The node is outside the ranges: its own access to the LB IP is dropped (kubernetes#119656).
  assert.equal(chainRules(r.iptables, 'filter', 'KUBE-IPVS-OUT-FILTER'), ['-s 1.2.3.4 -m ipvs --vaddr 1.2.3.4 --vproto tcp --vport 80 -j DROP']);
});

test('a node inside the LB source ranges may reach the LB IP (KUBE-LOAD-BALANCER-SOURCE-IP)', () => {
  const s = svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.41', loadBalancerVIPs: ['1.2.3.4'], loadBalancerSourceRanges: ['10.0.0.0/8'] });
  const r = renderIpvs(state([[s, []]]), settings({ nodeIPs: ['10.1.2.3'] }));
  assert.equal(entries(r, 'KUBE-LOAD-BALANCER-SOURCE-IP'), ['1.2.3.4,tcp:80,1.2.3.4']);
  assert.equal(chainRules(r.iptables, 'filter', 'KUBE-IPVS-OUT-FILTER'), []);
  assert.equal(filter(r, 'KUBE-SOURCE-RANGES-FIREWALL'), ['RETURN KUBE-LOAD-BALANCER-SOURCE-CIDR', 'RETURN KUBE-LOAD-BALANCER-SOURCE-IP', 'DROP']);
});

test('TestAcceptIPVSTraffic: KUBE-SERVICES ends with ACCEPTs for ClusterIP and LB members', () => {
  const r = renderIpvs(state([
    [svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.40', externalIPs: ['5.6.7.8'] }), [ep('10.180.0.1', 80)]],
    [svc('ns1', 'svc2', 'p80', { clusterIP: '10.20.30.41', nodePort: 80, loadBalancerVIPs: ['1.2.3.4'] }), [ep('10.180.0.2', 80)]],
    [svc('ns1', 'svc3', 'p80', { clusterIP: '10.20.30.42', nodePort: 80 }), [ep('10.180.0.3', 80)]],
  ]), settings());
  assert.equal(nat(r, 'KUBE-SERVICES'), [
    'RETURN -s 127.0.0.0/8', 'KUBE-LOAD-BALANCER KUBE-LOAD-BALANCER', 'KUBE-MARK-MASQ KUBE-CLUSTER-IP',
    'KUBE-MARK-MASQ KUBE-EXTERNAL-IP', 'ACCEPT KUBE-EXTERNAL-IP', 'ACCEPT KUBE-EXTERNAL-IP', 'KUBE-NODE-PORT',
    'ACCEPT KUBE-CLUSTER-IP', 'ACCEPT KUBE-LOAD-BALANCER',
  ]);
});

test('TestOnlyLocalLoadBalancing: an eTP=Local LB uses local endpoints and RETURNs before masquerade', () => {
  const s = svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.41', nodePort: 3001, loadBalancerVIPs: ['1.2.3.4'], externalPolicyLocal: true });
  const r = renderIpvs(state([[s, [ep('10.180.0.1', 80, { nodeName: NODE }), ep('10.180.1.1', 80, { nodeName: 'other-node' })]]]), settings());
  assert.equal(vsMap(r)['TCP 1.2.3.4:80'], ['10.180.0.1:80/w1']);
  assert.equal(entries(r, 'KUBE-LOAD-BALANCER-LOCAL'), ['1.2.3.4,tcp:80']);
  assert.equal(nat(r, 'KUBE-LOAD-BALANCER'), ['RETURN KUBE-LOAD-BALANCER-LOCAL', 'KUBE-MARK-MASQ']);
});

test('TestSessionAffinity: ClientIP affinity makes every virtual server persistent with the timeout', () => {
  const s = svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.41', nodePort: 3001, externalIPs: ['50.60.70.81'], sessionAffinityClientIP: true, stickyMaxAgeSeconds: 10800 });
  const r = renderIpvs(state([[s, []]]), settings({ nodeIPs: ['100.101.102.103'] }));
  assert.is(r.virtualServers.length, 3);
  for (const v of r.virtualServers) {
    assert.equal(v.flags, ['persistent']);
    assert.is(v.persistentTimeout, 10800);
  }
});

test('internalTrafficPolicy=Local: the ClusterIP virtual server only gets local endpoints', () => {
  const s = svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.41', internalPolicyLocal: true });
  const r = renderIpvs(state([[s, [ep('10.180.0.1', 80, { nodeName: NODE }), ep('10.180.1.1', 80, { nodeName: 'other-node' })]]]), settings());
  assert.equal(vsMap(r), { 'TCP 10.20.30.41:80': ['10.180.0.1:80/w1'] });
});

test('not-ready endpoints are not real servers', () => {
  const r = renderIpvs(state([[svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.41' }), [ep('10.180.0.1', 80), ep('10.180.0.2', 80, { ready: false, serving: false })]]]), settings());
  assert.equal(vsMap(r), { 'TCP 10.20.30.41:80': ['10.180.0.1:80/w1'] });
});

test('the scheduler comes from settings; mh adds the source-hash (mh-port) flag; unknown ones are refused', () => {
  const st = state([[svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.41' }), []]]);
  assert.is(renderIpvs(st, settings({ ipvsScheduler: 'lc' })).virtualServers[0].scheduler, 'lc');
  const mh: VirtualServer = renderIpvs(st, settings({ ipvsScheduler: 'mh' })).virtualServers[0];
  assert.equal(mh.flags, ['mh-port']);
  assert.throws(() => renderIpvs(st, settings({ ipvsScheduler: 'fastest' })), (e: unknown) => e instanceof LabFileError && /unknown IPVS scheduler "fastest"/.test((e as Error).message));
});

test('TestMasqueradeRule: MASQUERADE carries --random-fully only when iptables supports it', () => {
  const st = state([]);
  const masq = (randomFully: boolean) => chainRules(renderIpvs(st, settings({ randomFully })).iptables, 'nat', 'KUBE-POSTROUTING').find((r) => r.includes('MASQUERADE'))!;
  assert.is(masq(false), '-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE');
  assert.is(masq(true), '-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully');
});

test('the ClusterIP masquerade rule follows the local-traffic detector', () => {
  const st = state([[svc('ns1', 'svc1', 'p80', { clusterIP: '10.20.30.41' }), []]]);
  const rule = (p: Parameters<typeof settings>[0]) => chainRules(renderIpvs(st, settings(p)).iptables, 'nat', 'KUBE-SERVICES')[1];
  assert.match(rule({}), /--match-set KUBE-CLUSTER-IP src,dst -j KUBE-MARK-MASQ$/);
  assert.match(rule({ clusterCIDR: '10.244.0.0/16' }), /--match-set KUBE-CLUSTER-IP dst,dst ! -s 10\.244\.0\.0\/16 -j KUBE-MARK-MASQ$/);
  assert.match(rule({ clusterCIDR: '10.244.0.0/16', masqueradeAll: true }), /--match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ$/);
});

test('every upstream ipset exists even when empty, with upstream types', () => {
  const r = renderIpvs(state([]), settings());
  assert.equal(r.ipsets.map((s) => `${s.name} ${s.type}`), [
    'KUBE-LOOP-BACK hash:ip,port,ip', 'KUBE-CLUSTER-IP hash:ip,port', 'KUBE-EXTERNAL-IP hash:ip,port', 'KUBE-EXTERNAL-IP-LOCAL hash:ip,port',
    'KUBE-LOAD-BALANCER hash:ip,port', 'KUBE-LOAD-BALANCER-FW hash:ip,port', 'KUBE-LOAD-BALANCER-LOCAL hash:ip,port',
    'KUBE-LOAD-BALANCER-SOURCE-IP hash:ip,port,ip', 'KUBE-LOAD-BALANCER-SOURCE-CIDR hash:ip,port,net', 'KUBE-NODE-PORT-TCP bitmap:port',
    'KUBE-NODE-PORT-LOCAL-TCP bitmap:port', 'KUBE-NODE-PORT-UDP bitmap:port', 'KUBE-NODE-PORT-LOCAL-UDP bitmap:port',
    'KUBE-NODE-PORT-SCTP-HASH hash:ip,port', 'KUBE-NODE-PORT-LOCAL-SCTP-HASH hash:ip,port', 'KUBE-HEALTH-CHECK-NODE-PORT bitmap:port',
    'KUBE-IPVS-IPS hash:ip',
  ]);
  // With no services, KUBE-SERVICES only has the localhost RETURN and the NodePort hook.
  assert.equal(nat(r, 'KUBE-SERVICES'), ['RETURN -s 127.0.0.0/8', 'KUBE-NODE-PORT']);
});

test('sysctls: upstream sets conntrack, expire_* and ip_forward; ARP ones only with strictARP', () => {
  assert.equal(sysctlsFor({}), {
    'net.ipv4.vs.conntrack': '1', 'net.ipv4.vs.expire_nodest_conn': '1', 'net.ipv4.vs.expire_quiescent_template': '1', 'net.ipv4.ip_forward': '1',
  });
  const strict = sysctlsFor({ strictARP: true, kernelVersion: '5.4.0-150-generic' });
  assert.is(strict['net.ipv4.conf.all.arp_ignore'], '1');
  assert.is(strict['net.ipv4.conf.all.arp_announce'], '2');
  assert.is(strict['net.ipv4.vs.conn_reuse_mode'], '0');
  assert.is(sysctlsFor({ kernelVersion: '6.1.0-18-amd64' })['net.ipv4.vs.conn_reuse_mode'], undefined);
});

test('the nine upstream jump rules are all prepends', () => {
  const r = renderIpvs(state([]), settings());
  assert.equal(r.jumps.map((j) => `${j.table} ${j.from} -> ${j.to}`), [
    'nat OUTPUT -> KUBE-SERVICES', 'nat PREROUTING -> KUBE-SERVICES', 'nat POSTROUTING -> KUBE-POSTROUTING',
    'filter FORWARD -> KUBE-FORWARD', 'filter INPUT -> KUBE-NODE-PORT', 'filter INPUT -> KUBE-PROXY-FIREWALL',
    'filter FORWARD -> KUBE-PROXY-FIREWALL', 'filter INPUT -> KUBE-IPVS-FILTER', 'filter OUTPUT -> KUBE-IPVS-OUT-FILTER',
  ]);
  assert.ok(r.jumps.every((j) => j.position === 'prepend'));
});

test.run();
