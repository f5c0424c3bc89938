import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { labNetnsPrefix, labOfNetworkNetns, netnsName, podNetnsName } from '../../../src/cluster/common/names.ts';
import { nodeStateDir } from '../../../src/cluster/common/state-dir.ts';
import { ownedBy } from '../../../src/cluster/netns/teardown.ts';
import { summarizeTeardown } from '../../../src/cluster/netns/driver.ts';

test('namespace names: svclab-<lab>-<node>, pods under svclab-<lab>-p-', () => {
  assert.is(labNetnsPrefix('clusterip-db'), 'svclab-clusterip-db-');
  assert.is(netnsName('clusterip-db', 'node-01'), 'svclab-clusterip-db-node-01');
  assert.is(podNetnsName('clusterip-db', 'default', 'db-7d9c-x2x.a'), 'svclab-clusterip-db-p-default-db-7d9c-x2x.a');
  assert.is(labOfNetworkNetns('svclab-clusterip-db-net'), 'clusterip-db');
  assert.is(labOfNetworkNetns('svclab-clusterip-db-node-01'), undefined);
});

test('names that could escape a path or a prefix are refused', () => {
  assert.throws(() => labNetnsPrefix('..'), /not a DNS label/);
  assert.throws(() => netnsName('lab', 'a/b'), /not a DNS label/);
  assert.throws(() => nodeStateDir('lab', '../etc'), /not a DNS label/);
  assert.throws(() => podNetnsName('lab', 'default', 'a b'), /not a DNS subdomain/);
});

test('down of lab "a" leaves lab "a-b" alone although the prefixes overlap', () => {
  const names = ['svclab-a-net', 'svclab-a-node-01', 'svclab-a-b-net', 'svclab-a-b-node-01', 'svclab-ab-net', 'other'];
  assert.equal(ownedBy('a', names, new Set(['a', 'a-b', 'ab'])), ['svclab-a-net', 'svclab-a-node-01']);
  assert.equal(ownedBy('a-b', names, new Set(['a', 'a-b', 'ab'])), ['svclab-a-b-net', 'svclab-a-b-node-01']);
});

test('the teardown summary line', () => {
  assert.is(summarizeTeardown({ namespaces: ['a', 'b'], processes: 1, paths: [], unmounted: [] }), 'removed 2 namespaces, 1 process, 0 paths');
});

test.run();
