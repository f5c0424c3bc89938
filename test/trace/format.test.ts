// The trace as printed: a tree per hook, conntrack's tuples, the answering pod.
// Built from the captured clusterip fixtures (walks computed from real
// counters) and a conntrack line from the same lab; compared to a golden file.
process.env.NO_COLOR = '1';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseIptablesSave } from '../../src/proxy/iptables/save-parse.ts';
import { CounterDiff, walkNode } from '../../src/proxy/iptables/walk.ts';
import { natOf, parseConntrackLine } from '../../src/proxy/conntrack.ts';
import { formatTrace, matchSummary, treeLines } from '../../src/trace/format.ts';
import type { TraceResult } from '../../src/trace/trace.ts';

const here = dirname(fileURLToPath(import.meta.url));
const dump = (n: string) => parseIptablesSave(readFileSync(join(here, '..', 'proxy', 'iptables', 'fixtures', n), 'utf8'));
const diffOf = (n: string) => new CounterDiff(dump(`${n}.before.txt`), dump(`${n}.after.txt`));

test('tree lines: siblings get ├─, the last child └─, and open branches a │', () => {
  const lines = treeLines([
    { depth: 0, label: 'A', detail: 'a' },
    { depth: 1, label: 'B' },
    { depth: 2, label: 'C', detail: 'c' },
    { depth: 1, label: 'D' },
    { depth: 0, label: 'E' },
  ], '');
  // Details line up two spaces after the widest branch.
  assert.equal(lines, ['├─ A        a', '│  ├─ B', '│  │  └─ C  c', '│  └─ D', '└─ E']);
});

test('match summaries say what a rule matched on', () => {
  assert.is(matchSummary('! -s 10.244.0.0/16 -d 10.96.0.10/32 -p tcp -m comment --comment "x" -m tcp --dport 53 -j KUBE-MARK-MASQ'), 'src not 10.244.0.0/16 dst 10.96.0.10/32 dport 53');
  assert.is(matchSummary('-m comment --comment "x" -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-X'), 'random p=0.33');
  assert.is(matchSummary('-m mark ! --mark 0x4000/0x4000 -j RETURN'), 'unmarked 0x4000');
  assert.is(matchSummary('-m comment --comment "x" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS'), 'dst local');
});

function clusterIPTrace(): TraceResult {
  const ct = parseConntrackLine('tcp      6 9 CLOSE src=10.244.2.2 dst=10.102.159.169 sport=52878 dport=3306 src=10.244.1.3 dst=10.244.2.2 sport=3306 dport=52878 [ASSURED] mark=0 use=1')!;
  const hop = { proto: 'tcp', src: '10.244.2.2', sport: 52878, dst: '10.244.1.3', dport: 3306 };
  const ctHop = parseConntrackLine('tcp      6 9 CLOSE src=10.244.2.2 dst=10.244.1.3 sport=52878 dport=3306 src=10.244.1.3 dst=10.244.2.2 sport=3306 dport=52878 [ASSURED] mark=0 use=1')!;
  return {
    lab: 'clusterip-db',
    mode: 'iptables',
    via: 'tcp',
    from: { kind: 'pod', label: 'pod client-b', ip: '10.244.2.2', node: 'node-03' },
    to: {
      text: 'db-service',
      kind: 'service',
      host: '10.102.159.169',
      port: 3306,
      protocol: 'TCP',
      service: { namespace: 'default', name: 'db-service', type: 'ClusterIP', clusterIP: '10.102.159.169', port: 3306, protocol: 'TCP', targetPort: 3306 },
    },
    connection: { ok: true, result: 'connected', sport: 52878, ms: 13 },
    endpoints: [
      { ip: '10.244.1.3', port: 3306, ready: true, nodeName: 'node-02', podName: 'db-56d7f7c5b6-4rxxx' },
      { ip: '10.244.2.3', port: 3306, ready: true, nodeName: 'node-03', podName: 'db-56d7f7c5b6-6678m' },
    ],
    nodes: [
      {
        node: 'node-03',
        ip: '192.168.49.4',
        role: 'runs client-b, the client: its packet enters here',
        packet: { proto: 'tcp', src: '10.244.2.2', sport: 52878, dst: '10.102.159.169', dport: 3306 },
        iptables: walkNode(diffOf('clusterip-node-03'), { proto: 'tcp', src: '10.244.2.2', sport: 52878, dst: '10.102.159.169', dport: 3306 }, { origin: 'arriving', localAddrs: ['10.244.2.1', '192.168.49.4'] }),
        conntrack: ct,
        nat: natOf(ct),
      },
      {
        node: 'node-02',
        ip: '192.168.49.3',
        role: 'runs db-56d7f7c5b6-4rxxx, the endpoint',
        packet: hop,
        iptables: walkNode(diffOf('clusterip-node-02'), hop, { origin: 'arriving', localAddrs: ['10.244.1.1', '192.168.49.3'] }),
        conntrack: ctHop,
        nat: natOf(ctHop),
      },
    ],
    answered: { pod: 'db-56d7f7c5b6-4rxxx', namespace: 'default', node: 'node-02', ip: '10.244.1.3', port: 3306, source: 'conntrack', isEndpoint: true },
    notes: [],
  };
}

test('a ClusterIP trace reads as the chain walk, node by node (golden)', () => {
  const text = formatTrace(clusterIPTrace()) + '\n';
  const golden = join(here, 'trace-clusterip.expected.txt');
  if (process.env.UPDATE_GOLDEN) writeFileSync(golden, text);
  assert.fixture(text, readFileSync(golden, 'utf8'));
});

test('no colour codes when NO_COLOR is set', () => {
  // eslint-disable-next-line no-control-regex
  assert.not.match(formatTrace(clusterIPTrace()), /\u001B\[/);
});

test('a failed connection says so and that nobody answered', () => {
  const r = clusterIPTrace();
  r.connection = { ok: false, result: 'timeout', ms: 3001 };
  delete r.answered;
  r.notes = ['the connection did not succeed (timeout); the path shows how far its first packet got'];
  const text = formatTrace(r);
  assert.match(text, /via   a TCP connect: timeout in 3001 ms/);
  assert.match(text, /✗ no answer traced \(timeout\)/);
  assert.match(text, /! the connection did not succeed/);
});

test.run();
