import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Pod } from '../../src/k8s/objects.ts';
import { checkNetnsPropagation, podHostname, renderHosts, renderResolvConf } from '../../src/workloads/sandbox.ts';
import { EnvironmentError } from '../../src/util/errors.ts';

const pod = (spec: Pod['spec'] = { containers: [] }, name = 'web-0', namespace = 'shop'): Pod => ({ metadata: { name, namespace }, spec });

test('resolv.conf for ClusterFirst: the three search domains, the cluster DNS, ndots:5', () => {
  assert.is(renderResolvConf(pod(), 'cluster.local', '10.96.0.10'),
    'search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
});

test('resolv.conf for dnsPolicy Default takes the node file; dnsConfig is merged in', () => {
  const node = '# host\nnameserver 1.1.1.1\nsearch corp.example\noptions edns0\n';
  assert.is(renderResolvConf(pod({ containers: [], dnsPolicy: 'Default' }), 'cluster.local', '10.96.0.10', node),
    'search corp.example\nnameserver 1.1.1.1\noptions edns0\n');
  const withCfg = pod({ containers: [], dnsConfig: { nameservers: ['9.9.9.9'], searches: ['x.example'], options: [{ name: 'ndots', value: '2' }, { name: 'rotate' }] } });
  assert.is(renderResolvConf(withCfg, 'cluster.local', '10.96.0.10'),
    'search shop.svc.cluster.local svc.cluster.local cluster.local x.example\nnameserver 10.96.0.10\nnameserver 9.9.9.9\noptions ndots:2 rotate\n');
  assert.is(renderResolvConf(pod({ containers: [], dnsPolicy: 'None', dnsConfig: { nameservers: ['9.9.9.9'] } }), 'cluster.local', '10.96.0.10'), 'nameserver 9.9.9.9\n');
});

test('hosts: localhost lines, then the pod IP with its name (and FQDN with a subdomain), then hostAliases', () => {
  const h = renderHosts(pod(), '10.244.1.5', 'cluster.local');
  assert.ok(h.startsWith('# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n'));
  assert.ok(h.endsWith('\n10.244.1.5\tweb-0\n'));
  const sub = renderHosts(pod({ containers: [], hostname: 'db', subdomain: 'dbs', hostAliases: [{ ip: '1.2.3.4', hostnames: ['a', 'b'] }] }), '10.244.1.6', 'cluster.local');
  assert.ok(sub.endsWith('10.244.1.6\tdb.dbs.shop.svc.cluster.local\tdb\n1.2.3.4\ta\tb\n'), sub);
});

test('the hostname is spec.hostname or the pod name, cut to 63 characters without a trailing dash', () => {
  assert.is(podHostname(pod()), 'web-0');
  assert.is(podHostname(pod({ containers: [], hostname: 'h' })), 'h');
  const long = `${'a'.repeat(62)}-b`.padEnd(70, 'c');
  assert.is(podHostname(pod(undefined, long)), 'a'.repeat(62));
});

// Lines as /proc/self/mountinfo has them for /run/netns.
const HOST = '42 27 254:0 /run/netns /run/netns rw,relatime shared:1 - ext4 /dev/vda rw\n';
const IP_NETNS_EXEC = '68 66 254:0 /run/netns /run/netns rw,relatime master:1 - ext4 /dev/vda rw\n';

test('netns propagation: the host mount namespace passes, a private one (ip netns exec) is refused with a hint', () => {
  checkNetnsPropagation(HOST);
  checkNetnsPropagation('1 0 0:1 / / rw - ext4 /dev/vda rw\n');
  try {
    checkNetnsPropagation(IP_NETNS_EXEC);
    assert.unreachable('should refuse');
  } catch (err) {
    assert.instance(err, EnvironmentError);
    assert.match((err as EnvironmentError).hint!, /nsenter --net=/);
  }
});

test.run();
