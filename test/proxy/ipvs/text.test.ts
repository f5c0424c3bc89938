// The text payloads (ipvsadm-restore, ipset restore, iptables-restore, ipvsadm -Ln)
// against golden files, and ipvsadm -Ln against the listing in upstream's
// pkg/proxy/ipvs/README.md.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { renderIpvs } from '../../../src/proxy/ipvs/render.ts';
import { formatIpvsadmList, ipsetRestoreText, ipvsadmRestoreText, serviceLine } from '../../../src/proxy/ipvs/text.ts';
import type { VirtualServer } from '../../../src/proxy/ipvs/types.ts';
import { sampleSettings, sampleState } from './sample.ts';

const golden = (name: string) => readFileSync(new URL(`./${name}`, import.meta.url), 'utf8');
const trimLines = (s: string) => s.split('\n').map((l) => l.trimEnd()).join('\n').trim();
const r = renderIpvs(sampleState, sampleSettings);

test('ipvsadm-restore text matches the golden file (sorted as ipvsadm -Sn prints it)', () => {
  assert.fixture(ipvsadmRestoreText(r.virtualServers), golden('sample.ipvsadm.expected.txt'));
});

test('ipset restore text creates every set with upstream options and adds the entries', () => {
  assert.fixture(ipsetRestoreText(r.ipsets), golden('sample.ipset.expected.txt'));
});

test('iptables-restore payload matches the golden file', () => {
  assert.fixture(r.iptables, golden('sample.iptables.expected.txt'));
});

test('ipvsadm -Ln text matches the golden file', () => {
  assert.fixture(formatIpvsadmList(r.virtualServers), golden('sample.ipvsadm-list.expected.txt'));
});

test('ipvsadm -Ln reproduces the listing in upstream pkg/proxy/ipvs/README.md', () => {
  const vs: VirtualServer[] = [
    { proto: 'UDP', address: '10.0.0.10', port: 53, scheduler: 'rr', flags: [], realServers: [{ address: '172.17.0.2', port: 53, weight: 1 }] },
    { proto: 'TCP', address: '10.0.0.10', port: 53, scheduler: 'rr', flags: [], realServers: [{ address: '172.17.0.2', port: 53, weight: 1 }] },
    { proto: 'TCP', address: '10.0.0.1', port: 443, scheduler: 'rr', flags: ['persistent'], persistentTimeout: 10800, realServers: [{ address: '192.168.0.1', port: 6443, weight: 1, activeConn: 1, inactConn: 0 }] },
  ];
  // The README (and most blogs) drop ipvsadm's trailing padding; compare without it.
  assert.is(trimLines(formatIpvsadmList(vs)), trimLines(golden('readme-ipvsadm-list.txt')));
});

test('the -A line carries -p for persistence and -b for scheduler flags', () => {
  const vs: VirtualServer = { proto: 'SCTP', address: '10.0.0.1', port: 80, scheduler: 'mh', flags: ['persistent', 'mh-port'], persistentTimeout: 60, realServers: [] };
  assert.is(serviceLine('-A', vs), '-A --sctp-service 10.0.0.1:80 -s mh -p 60 -b mh-port');
  assert.match(formatIpvsadmList([vs]), 'SCTP  10.0.0.1:80 mh (mh-port) persistent 60\n');
});

test.run();
