// The nftables tracer (src/proxy/nftables/tracer.ts): a temporary trace table
// on the entry node (and for the hop on the others), `nft monitor trace` on
// each, both undone afterwards; the walk comes from the monitor's output.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Packet } from '../../../src/proxy/conntrack.ts';
import { entryMatch, hopMatch, nftablesTracer } from '../../../src/proxy/nftables/tracer.ts';
import type { NodeTrace } from '../../../src/proxy/trace-model.ts';
import { clusterIPPlan, fakeNode, fakeToolkit } from '../trace-helpers.ts';

const fixture = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'nft-nodeport.trace.txt'), 'utf8');
const packet: Packet = { proto: 'tcp', src: '192.168.49.254', sport: 21011, dst: '192.168.49.2', dport: 30007 };

test('the entry match is the connection as dialled; a node\'s own connection leaves the source to the kernel', () => {
  assert.equal(entryMatch(clusterIPPlan()), { proto: 'tcp', src: '10.244.2.2', sport: 24001, dst: '10.106.141.239', dport: 3306 });
  assert.equal(entryMatch(clusterIPPlan({ origin: 'local', sport: undefined })), { proto: 'tcp', dst: '10.106.141.239', dport: 3306 });
});

test('the hop match: from the client or the entry node to any endpoint; none without endpoints', () => {
  assert.equal(hopMatch(clusterIPPlan()), { proto: 'tcp', src: ['10.244.2.2', '192.168.49.4'], dst: ['10.244.2.3', '10.244.1.2'], dport: 3306 });
  assert.is(hopMatch(clusterIPPlan({ endpoints: [] })), undefined);
});

test('a session installs its table, monitors every traced node, and removes the table again; annotate walks the monitor output', async () => {
  const entry = fakeNode('node-01', '192.168.49.2');
  const others = [fakeNode('node-02', '192.168.49.3'), fakeNode('node-03', '192.168.49.4')];
  let table = '';
  // The monitor prints the captured trace, as if our table had the session's name.
  const kit = fakeToolkit((node) => (node === 'node-01' ? fixture.replaceAll(' svclab-trace ', ` ${table} `) : ''));
  const session = nftablesTracer.open(clusterIPPlan({ entry, others, clientIP: '192.168.49.254', sport: 21011, dst: '192.168.49.2', dport: 30007 }), kit);
  await session.prepare?.();
  table = entry.calls[0].input?.match(/^table ip (\S+) \{/)?.[1] ?? '';
  assert.match(table, /^svclab-trace-[0-9a-f]{6}$/);
  assert.equal(entry.calls[0].argv, ['nft', '-f', '-']);
  assert.match(entry.calls[0].input ?? '', 'ip saddr 192.168.49.254 ip daddr 192.168.49.2 tcp sport 21011 tcp dport 30007 ct state new meta nftrace set 1');
  assert.match(others[0].calls[0].input ?? '', 'ip saddr { 192.168.49.254, 192.168.49.2 } ip daddr { 10.244.2.3, 10.244.1.2 } tcp dport 3306');

  await session.startMonitors?.();
  assert.equal(kit.started.sort(), ['node-01 nft monitor trace', 'node-02 nft monitor trace', 'node-03 nft monitor trace']);
  await session.cleanup?.();
  assert.equal(kit.stopped.sort(), ['node-01', 'node-02', 'node-03']);
  for (const n of [entry, ...others]) assert.equal(n.calls.at(-1)?.argv, ['nft', 'delete', 'table', 'ip', table]);

  const t: NodeTrace = { node: 'node-01', ip: '192.168.49.2', role: 'the external client dials here', packet };
  session.annotate?.(t, entry, 'the connection');
  assert.ok(t.nft?.hooks.length);
  assert.is(t.nftNote, undefined);
  const far: NodeTrace = { node: 'node-02', ip: '192.168.49.3', role: 'runs the endpoint', packet };
  session.annotate?.(far, others[0], 'the forwarded connection');
  assert.is(far.nftNote, 'no trace events for the forwarded connection (the monitor may have started late; run the trace again)');
});

test('a failed table install on the entry node: prepare throws, and cleanup has no table to remove', async () => {
  const calls: string[] = [];
  const entry = fakeNode('node-01', '192.168.49.2');
  entry.exec = async (argv) => {
    calls.push(argv.join(' '));
    throw new Error('nft: no such file');
  };
  const session = nftablesTracer.open(clusterIPPlan({ entry }), fakeToolkit());
  let failed = false;
  try {
    await session.prepare?.();
  } catch {
    failed = true;
  }
  assert.ok(failed);
  await session.cleanup?.();
  assert.equal(calls, ['nft -f -']);
  assert.is(nftablesTracer.countsRules, false);
});

test.run();
