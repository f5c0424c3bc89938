// Fixed chains and small behaviours: KUBE-FORWARD (TestDropInvalidRule), KUBE-POSTROUTING
// (TestMasqueradeRule), IP normalisation (TestBadIPs), LB ipMode (TestLoadBalancerIngressRouteTypeProxy),
// probabilities (TestComputeProbability), the masquerade mark, jump rules, nodePortAddresses.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareLikeUpstream } from '../../../src/proxy/iptables/compare.ts';
import { formatFixed10, probability } from '../../../src/proxy/iptables/probability.ts';
import { masqueradeMark, renderIptables } from '../../../src/proxy/iptables/render.ts';
import { CANARY_CHAIN, CANARY_TABLES, JUMP_RULES, KUBELET_JUMP_RULES, jumpRuleArgv } from '../../../src/proxy/iptables/jumps.ts';
import { jumpRuleArgs } from '../../../src/proxy/jump-rules.ts';
import type { IptablesRuleset } from '../../../src/proxy/iptables/ruleset.ts';
import { buildProxyState } from '../../../src/proxy/proxy-state.ts';
import { golden, makeService, makeSlice, render, upstreamSettings } from './helpers.ts';

const chainRules = (out: IptablesRuleset, table: 'filter' | 'nat', chain: string) =>
  out[table].rules.filter((r) => r.chain === chain).map((r) => ['-A', chain, ...r.args].map((w) => (/\s/.test(w) ? `"${w}"` : w)).join(' '));

const FORWARD_ACCEPTS = [
  '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
  '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
];
const dropCases = [
  { tcpLiberal: false, nfacct: false, drop: ['-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP'] },
  { tcpLiberal: false, nfacct: true, drop: ['-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP'] },
  { tcpLiberal: true, nfacct: false, drop: [] },
];
for (const tc of dropCases) {
  test(`TestDropInvalidRule: tcpLiberal is ${tc.tcpLiberal} and nfacctEnsured is ${tc.nfacct}`, () => {
    const out = render([], [], upstreamSettings({ conntrackTCPBeLiberal: tc.tcpLiberal, hasNfacct: tc.nfacct }));
    assert.equal(chainRules(out, 'filter', 'KUBE-FORWARD'), [...tc.drop, ...FORWARD_ACCEPTS]);
  });
}

for (const randomFully of [false, true]) {
  test(`TestMasqueradeRule: randomFully ${randomFully}`, () => {
    const out = render([], [], upstreamSettings({ randomFully }));
    assert.equal(chainRules(out, 'nat', 'KUBE-POSTROUTING'), [
      '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
      '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
      `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${randomFully ? ' --random-fully' : ''}`,
    ]);
  });
}

test('TestBadIPs: leading zeros and host bits are rewritten before they reach iptables-restore', () => {
  const svc = makeService('ns1', 'svc1', (s) => {
    s.spec.type = 'LoadBalancer';
    s.spec.clusterIP = '172.30.0.041';
    s.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }];
    s.status.loadBalancer = { ingress: [{ ip: '1.2.3.004' }] };
    s.spec.externalIPs = ['192.168.099.022'];
    s.spec.loadBalancerSourceRanges = ['203.0.113.000/025'];
  });
  const slice = makeSlice('ns1', 'svc1', 1, (e) => {
    e.endpoints = [{ addresses: ['10.180.00.001'] }];
    e.ports = [{ name: 'p80', port: 80, protocol: 'TCP' }];
  });
  const cmp = compareLikeUpstream(golden('bad-ips.expected.txt'), render([svc], [slice]).text);
  assert.ok(cmp.equal, cmp.diff);
});

for (const tc of [
  { name: 'ipMode Proxy', ip: '1.2.3.4', ipMode: 'Proxy', expected: false },
  { name: 'ipMode VIP', ip: '1.2.3.5', ipMode: 'VIP', expected: true },
  { name: 'ipMode nil', ip: '1.2.3.6', ipMode: undefined, expected: true },
]) {
  test(`TestLoadBalancerIngressRouteTypeProxy: ${tc.name}`, () => {
    const svc = makeService('ns1', 'svc1', (s) => {
      s.spec.type = 'LoadBalancer';
      s.spec.clusterIP = '10.20.30.41';
      s.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }];
      s.status.loadBalancer = { ingress: [{ ip: tc.ip, ...(tc.ipMode ? { ipMode: tc.ipMode } : {}) }] };
    });
    const slice = makeSlice('ns1', 'svc1', 1, (e) => {
      e.endpoints = [{ addresses: ['10.180.0.1'] }];
      e.ports = [{ name: 'p80', port: 80, protocol: 'TCP' }];
    });
    const out = render([svc], [slice]);
    const exists = out.nat.rules.some((r) => r.chain === 'KUBE-SERVICES' && r.args.includes(tc.ip));
    assert.is(exists, tc.expected);
  });
}

test('TestComputeProbability: %0.10f of 1/n, strictly increasing as n falls', () => {
  const expected: Record<number, string> = {
    1: '1.0000000000', 2: '0.5000000000', 10: '0.1000000000', 100: '0.0100000000', 1000: '0.0010000000',
    10000: '0.0001000000', 100000: '0.0000100000', 100001: '0.0000099999',
  };
  for (const [n, s] of Object.entries(expected)) assert.is(probability(Number(n)), s, `n=${n}`);
  let prev = 0;
  for (let i = 100000; i > 1; i--) {
    const p = Number(probability(i));
    assert.ok(p > prev, `probability(${i}) = ${p} not above ${prev}`);
    prev = p;
  }
});

test('probabilities round half-to-even on exact ties like Go (1/2048 = 0.00048828125)', () => {
  assert.is(formatFixed10(1 / 2048), '0.0004882812');
  assert.is(formatFixed10(1 / 3), '0.3333333333');
  assert.is(formatFixed10(2 / 3), '0.6666666667');
  assert.is((1 / 2048).toFixed(10), '0.0004882813', 'JS toFixed rounds the tie up, hence formatFixed10');
});

test("the mark is formatted like Go's %#08x (0x00004000) unless a literal is given", () => {
  assert.is(masqueradeMark(14), '0x00004000');
  assert.is(masqueradeMark(0), '0x00000001');
  assert.is(masqueradeMark(31), '0x80000000');
  const settings = upstreamSettings();
  const out = renderIptables(buildProxyState({ services: [], slices: [] }, settings), settings);
  assert.ok(out.text.includes('-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000\n'));
  assert.ok(out.text.includes('-m mark ! --mark 0x00004000/0x00004000 -j RETURN'));
});

test('nodePortAddresses: one "must be the last rule" jump per matching node IP, loopback only with localhost NodePorts', () => {
  const lastRules = (out: IptablesRuleset) => out.nat.rules.filter((r) => r.comment?.includes('must be the last rule')).map((r) => r.args.slice(4).join(' '));
  const settings = upstreamSettings({ nodePortAddresses: ['192.168.0.0/16', '127.0.0.0/8'] });
  assert.equal(lastRules(render([], [], settings)), ['-d 192.168.0.2 -j KUBE-NODEPORTS', '-d 192.168.1.2 -j KUBE-NODEPORTS',
    '-d 192.168.99.11 -j KUBE-NODEPORTS', '-d 127.0.0.1 -j KUBE-NODEPORTS']);
  assert.equal(lastRules(render([], [], upstreamSettings({ nodePortAddresses: ['primary'] }))), ['-d 192.168.0.2 -j KUBE-NODEPORTS']);
  assert.equal(lastRules(render([], [], upstreamSettings({ localhostNodePorts: false }))), ['-m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS']);
  assert.equal(lastRules(render([], [], upstreamSettings())), ['-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS']);
  // A range without 127.0.0.1 turns localhost NodePorts (and KUBE-FIREWALL) off, as NewProxier does.
  const noLoopback = render([], [], upstreamSettings({ nodePortAddresses: ['192.168.0.0/24'] }));
  assert.not.ok(noLoopback.filter.chains.includes('KUBE-FIREWALL'));
});

test('an invalid clusterCIDR fails the render instead of the restore', () => {
  assert.throws(() => render([], [], upstreamSettings({ clusterCIDR: '10.0.0.0/33' })), /longer than 32 bits/);
});

test('jump rules: the upstream table of built-in chain jumps, ready for iptables -C/-I', () => {
  assert.is(JUMP_RULES.length, 12);
  const nat = JUMP_RULES.filter((j) => j.table === 'nat').map((j) => `${j.from}->${j.to}`);
  assert.equal(nat, ['OUTPUT->KUBE-SERVICES', 'PREROUTING->KUBE-SERVICES', 'POSTROUTING->KUBE-POSTROUTING']);
  const ext = JUMP_RULES.find((j) => j.from === 'INPUT' && j.to === 'KUBE-EXTERNAL-SERVICES')!;
  assert.equal(jumpRuleArgv(ext, '-I'), ['-w', '-t', 'filter', '-I', 'INPUT', '-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment',
    'kubernetes externally-visible service portals', '-j', 'KUBE-EXTERNAL-SERVICES']);
  const hc = JUMP_RULES.find((j) => j.to === 'KUBE-NODEPORTS')!;
  assert.equal(jumpRuleArgs(hc), ['-m', 'comment', '--comment', 'kubernetes health check service ports', '-j', 'KUBE-NODEPORTS']);
  assert.equal(KUBELET_JUMP_RULES.map((j) => jumpRuleArgs(j)), [['-j', 'KUBE-FIREWALL'], ['-j', 'KUBE-FIREWALL']]);
  assert.is(CANARY_CHAIN, 'KUBE-PROXY-CANARY');
  assert.equal([...CANARY_TABLES], ['mangle', 'nat', 'filter']);
});

test.run();
