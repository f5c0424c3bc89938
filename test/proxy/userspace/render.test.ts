// Userspace portal rules, checked against the rule text kube-proxy 1.25's
// iptablesContainerPortalArgs / iptablesHostPortalArgs / iptablesNonLocalNodePortArgs build.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { renderUserspace, USERSPACE_JUMPS } from '../../../src/proxy/userspace/render.ts';
import { jumpRuleArgs } from '../../../src/proxy/jump-rules.ts';
import { chainRules, ep, settings, state, svc } from '../ipvs/fixtures.ts';

const cfg = settings({ nodeIPs: ['192.168.50.11'] });

test('a ClusterIP portal: REDIRECT from containers, DNAT to the host IP from the host', () => {
  const st = state([[svc('default', 'web', 'http', { clusterIP: '10.96.0.20', port: 80 }), [ep('10.244.1.7', 8080)]]]);
  const out = renderUserspace(st, cfg, new Map([['default/web:http', 36001]]), '0.0.0.0');
  assert.equal(chainRules(out, 'nat', 'KUBE-PORTALS-CONTAINER'), ['-m comment --comment default/web:http -p tcp -m tcp --dport 80 -d 10.96.0.20/32 -j REDIRECT --to-ports 36001']);
  assert.equal(chainRules(out, 'nat', 'KUBE-PORTALS-HOST'), ['-m comment --comment default/web:http -p tcp -m tcp --dport 80 -d 10.96.0.20/32 -j DNAT --to-destination 192.168.50.11:36001']);
  assert.equal(chainRules(out, 'nat', 'KUBE-NODEPORT-CONTAINER'), []);
  assert.equal(chainRules(out, 'filter', 'KUBE-NODEPORT-NON-LOCAL'), []);
});

test('bound to a specific address, container traffic is DNATed there instead of REDIRECTed', () => {
  const st = state([[svc('kube-system', 'kube-dns', 'dns', { clusterIP: '10.96.0.10', port: 53, protocol: 'UDP' }), []]]);
  const out = renderUserspace(st, cfg, new Map([['kube-system/kube-dns:dns', 40000]]), '192.168.50.11');
  assert.equal(chainRules(out, 'nat', 'KUBE-PORTALS-CONTAINER'), ['-m comment --comment kube-system/kube-dns:dns -p udp -m udp --dport 53 -d 10.96.0.10/32 -j DNAT --to-destination 192.168.50.11:40000']);
  assert.equal(chainRules(out, 'nat', 'KUBE-PORTALS-HOST'), ['-m comment --comment kube-system/kube-dns:dns -p udp -m udp --dport 53 -d 10.96.0.10/32 -j DNAT --to-destination 192.168.50.11:40000']);
});

test('a NodePort adds container and host NodePort rules and lets the proxy port through INPUT', () => {
  const st = state([[svc('default', 'web', 'http', { clusterIP: '10.96.0.20', port: 80, nodePort: 30080 }), [ep('10.244.1.7', 8080)]]]);
  const out = renderUserspace(st, cfg, new Map([['default/web:http', 36001]]), '0.0.0.0');
  assert.equal(chainRules(out, 'nat', 'KUBE-NODEPORT-CONTAINER'), ['-m comment --comment default/web:http -p tcp -m tcp --dport 30080 -j REDIRECT --to-ports 36001']);
  assert.equal(chainRules(out, 'nat', 'KUBE-NODEPORT-HOST'), ['-m comment --comment default/web:http -p tcp -m tcp --dport 30080 -j DNAT --to-destination 192.168.50.11:36001']);
  assert.equal(chainRules(out, 'filter', 'KUBE-NODEPORT-NON-LOCAL'), ['-m comment --comment default/web:http -p tcp -m tcp --dport 36001 -m state --state NEW -j ACCEPT']);
});

test('external IPs get the physdev and dst-LOCAL variants; LB IPs are plain portals', () => {
  const st = state([[svc('default', 'web', 'http', { clusterIP: '10.96.0.20', port: 80, externalIPs: ['203.0.113.7'], loadBalancerVIPs: ['198.51.100.9'] }), []]]);
  const out = renderUserspace(st, cfg, new Map([['default/web:http', 36001]]), '0.0.0.0');
  assert.equal(chainRules(out, 'nat', 'KUBE-PORTALS-CONTAINER'), [
    '-m comment --comment default/web:http -p tcp -m tcp --dport 80 -d 10.96.0.20/32 -j REDIRECT --to-ports 36001',
    '-m comment --comment default/web:http -p tcp -m tcp --dport 80 -d 203.0.113.7/32 -m physdev ! --physdev-is-in -j REDIRECT --to-ports 36001',
    '-m comment --comment default/web:http -p tcp -m tcp --dport 80 -d 203.0.113.7/32 -m addrtype --dst-type LOCAL -j REDIRECT --to-ports 36001',
    '-m comment --comment default/web:http -p tcp -m tcp --dport 80 -d 198.51.100.9/32 -j REDIRECT --to-ports 36001',
  ]);
  assert.equal(chainRules(out, 'nat', 'KUBE-PORTALS-HOST'), [
    '-m comment --comment default/web:http -p tcp -m tcp --dport 80 -d 10.96.0.20/32 -j DNAT --to-destination 192.168.50.11:36001',
    '-m comment --comment default/web:http -p tcp -m tcp --dport 80 -d 203.0.113.7/32 -m addrtype --dst-type LOCAL -j DNAT --to-destination 192.168.50.11:36001',
    '-m comment --comment default/web:http -p tcp -m tcp --dport 80 -d 198.51.100.9/32 -j DNAT --to-destination 192.168.50.11:36001',
  ]);
});

test('ClientIP affinity and missing endpoints change nothing in the rules: both live in the proxy', () => {
  const plain = state([[svc('default', 'db', '', { clusterIP: '10.96.0.30', port: 3306 }), [ep('10.244.2.9', 3306)]]]);
  const sticky = state([[svc('default', 'db', '', { clusterIP: '10.96.0.30', port: 3306, sessionAffinityClientIP: true, stickyMaxAgeSeconds: 60 }), []]]);
  const ports = new Map([['default/db', 36002]]);
  assert.is(renderUserspace(sticky, cfg, ports, '0.0.0.0'), renderUserspace(plain, cfg, ports, '0.0.0.0'));
  // An unnamed port's comment is just ns/name.
  assert.match(renderUserspace(plain, cfg, ports, '0.0.0.0'), '--comment default/db -p tcp -m tcp --dport 3306 -d 10.96.0.30/32 -j REDIRECT --to-ports 36002');
});

test('a service port without a proxy port gets no portal', () => {
  const st = state([[svc('default', 'web', 'http', { clusterIP: '10.96.0.20' }), []]]);
  assert.not.match(renderUserspace(st, cfg, new Map(), '0.0.0.0'), '-A KUBE-PORTALS');
});

test('the whole payload for a small cluster matches the golden file', () => {
  const st = state([
    [svc('kube-system', 'kube-dns', 'dns', { clusterIP: '10.96.0.10', port: 53, protocol: 'UDP' }), []],
    [svc('kube-system', 'kube-dns', 'dns-tcp', { clusterIP: '10.96.0.10', port: 53 }), []],
    [svc('default', 'web', 'http', { clusterIP: '10.96.0.20', port: 80, nodePort: 30080 }), []],
  ]);
  const ports = new Map([['kube-system/kube-dns:dns', 36000], ['kube-system/kube-dns:dns-tcp', 36001], ['default/web:http', 36002]]);
  assert.fixture(renderUserspace(st, cfg, ports, '0.0.0.0'), readFileSync(new URL('./sample.expected.txt', import.meta.url), 'utf8'));
});

test('jump rules: portals prepended to PREROUTING/OUTPUT, NodePorts appended with addrtype LOCAL', () => {
  assert.equal(USERSPACE_JUMPS.map((j) => `${j.table} ${j.position} ${j.from} ${jumpRuleArgs(j).join(' ')}`), [
    'nat prepend PREROUTING -m comment --comment handle ClusterIPs; NOTE: this must be before the NodePort rules -j KUBE-PORTALS-CONTAINER',
    'nat prepend OUTPUT -m comment --comment handle ClusterIPs; NOTE: this must be before the NodePort rules -j KUBE-PORTALS-HOST',
    'nat append PREROUTING -m addrtype --dst-type LOCAL -m comment --comment handle service NodePorts; NOTE: this must be the last rule in the chain -j KUBE-NODEPORT-CONTAINER',
    'nat append OUTPUT -m addrtype --dst-type LOCAL -m comment --comment handle service NodePorts; NOTE: this must be the last rule in the chain -j KUBE-NODEPORT-HOST',
    'filter prepend INPUT -m comment --comment Ensure that non-local NodePort traffic can flow -j KUBE-NODEPORT-NON-LOCAL',
  ]);
});

test.run();
