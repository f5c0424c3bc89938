// Parsers for ipvsadm -Sn / -Ln, `ipset save` (real output captured from ipset
// 7.17 in a throwaway network namespace) and `ip -o addr`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parseDeviceAddresses, parseIpsetSave, parseIpvsadmList, parseIpvsadmSave } from '../../../src/proxy/ipvs/parse.ts';
import { renderIpvs } from '../../../src/proxy/ipvs/render.ts';
import { sortVirtualServers } from '../../../src/proxy/ipvs/text.ts';
import { sampleSettings, sampleState } from './sample.ts';

const fixture = (name: string) => readFileSync(new URL(`./${name}`, import.meta.url), 'utf8');

test('ipvsadm -Sn text parses back into the rendered virtual servers', () => {
  const r = renderIpvs(sampleState, sampleSettings);
  const parsed = parseIpvsadmSave(fixture('sample.ipvsadm.expected.txt'));
  assert.equal(parsed, sortVirtualServers(r.virtualServers));
});

test('ipvsadm -Sn: -p, -b, UDP and SCTP services', () => {
  const vs = parseIpvsadmSave([
    '-A -u 10.96.0.10:53 -s wrr -p 300',
    '-a -u 10.96.0.10:53 -r 10.244.1.5:53 -m -w 0',
    '-A --sctp-service 10.96.0.11:80 -s mh -b mh-fallback,mh-port',
  ].join('\n'));
  assert.equal(vs, [
    { proto: 'UDP', address: '10.96.0.10', port: 53, scheduler: 'wrr', flags: ['persistent'], persistentTimeout: 300, realServers: [{ address: '10.244.1.5', port: 53, weight: 0 }] },
    { proto: 'SCTP', address: '10.96.0.11', port: 80, scheduler: 'mh', flags: ['mh-fallback', 'mh-port'], realServers: [] },
  ]);
  assert.throws(() => parseIpvsadmSave('-a -t 10.0.0.1:80 -r 10.244.0.1:80 -m -w 1'), /unknown virtual server/);
});

test('ipvsadm -Ln (upstream README listing) parses with connection counters', () => {
  const vs = parseIpvsadmList(fixture('readme-ipvsadm-list.txt'));
  assert.equal(vs, [
    { proto: 'TCP', address: '10.0.0.1', port: 443, scheduler: 'rr', flags: ['persistent'], persistentTimeout: 10800, realServers: [{ address: '192.168.0.1', port: 6443, weight: 1, activeConn: 1, inactConn: 0 }] },
    { proto: 'TCP', address: '10.0.0.10', port: 53, scheduler: 'rr', flags: [], realServers: [{ address: '172.17.0.2', port: 53, weight: 1, activeConn: 0, inactConn: 0 }] },
    { proto: 'UDP', address: '10.0.0.10', port: 53, scheduler: 'rr', flags: [], realServers: [{ address: '172.17.0.2', port: 53, weight: 1, activeConn: 0, inactConn: 0 }] },
  ]);
  // Our own -Ln rendering (with its trailing padding) parses the same way.
  assert.equal(parseIpvsadmList(fixture('sample.ipvsadm-list.expected.txt')).length, 5);
  assert.equal(parseIpvsadmList('IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n'), []);
});

test('ipset save output from ipset 7.17 parses; extra create options are ignored and /32 nets canonicalised', () => {
  const sets = parseIpsetSave(fixture('ipset-save.captured.txt'));
  assert.equal(sets.map((s) => `${s.name} ${s.type} ${s.entries.length}`), [
    'KUBE-CLUSTER-IP hash:ip,port 3', 'KUBE-LOOP-BACK hash:ip,port,ip 1', 'KUBE-NODE-PORT-TCP bitmap:port 1',
    'KUBE-LOAD-BALANCER-SOURCE-CIDR hash:ip,port,net 2', 'KUBE-IPVS-IPS hash:ip 1',
  ]);
  assert.equal(sets[0].entries, ['10.96.0.10,tcp:53', '10.96.0.10,udp:53', '10.96.0.11,sctp:80']);
  assert.equal(sets[3].entries, ['5.5.5.5,tcp:81,10.0.0.0/16', '1.2.3.4,tcp:80,10.0.0.1']);
  assert.throws(() => parseIpsetSave('add NOPE 1.2.3.4'), /unknown set NOPE/);
});

test('addresses on kube-ipvs0 come from ip -o -4 addr', () => {
  const text = [
    '5: kube-ipvs0    inet 10.96.0.1/32 scope global kube-ipvs0\\       valid_lft forever preferred_lft forever',
    '5: kube-ipvs0    inet 10.96.0.10/32 scope global kube-ipvs0\\       valid_lft forever preferred_lft forever',
  ].join('\n');
  assert.equal(parseDeviceAddresses(text), ['10.96.0.1', '10.96.0.10']);
  assert.equal(parseDeviceAddresses(''), []);
});

test.run();
