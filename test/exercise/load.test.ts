// The exercise loader: every shipped exercise loads cleanly against its lab,
// and each mistake in an exercise file is a LabFileError with the file, the
// exact line, the field path and the problem in words.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { loadExercise, parseExercise, taskText } from '../../src/exercise/load.ts';
import { exerciseFiles } from '../../src/exercise/find.ts';
import { renderExerciseJsonSchema } from '../../src/exercise/json-schema.ts';
import { LabFileError } from '../../src/util/errors.ts';

const FIX = fileURLToPath(new URL('./fixtures/', import.meta.url));
const FILE = join(FIX, 'ex.yaml');
const EXERCISES = fileURLToPath(new URL('../../exercises/', import.meta.url));

// A valid exercise; each case below changes one part of it.
const GOOD = {
  head: 'apiVersion: svclab.dev/v1alpha1\nkind: Exercise\nmetadata: { name: ex-one, title: Fix it }\nlab: lab.yaml\n',
  break: 'break:\n  - step: scale\n    deployment: web\n    replicas: 1\n',
  task: 'task: Fix ${exercise} in lab ${labName}.\n',
  checks: 'checks:\n  - assert: proxy-rules\n    service: web-svc\n    port: 80\n    hint: look at the selector\n',
  solution: 'solution:\n  - step: apply\n    manifest:\n      apiVersion: v1\n      kind: Service\n      metadata: { name: web-svc }\n      spec: { selector: { app: web }, ports: [{ port: 80 }] }\n',
};
const text = (over: Partial<typeof GOOD> = {}) => Object.values({ ...GOOD, ...over }).join('');

async function failure(t: string): Promise<LabFileError> {
  try {
    await parseExercise(t, FILE);
  } catch (e) {
    if (e instanceof LabFileError) return e;
    throw e;
  }
  throw new Error('loaded without an error');
}

test('a valid exercise: its lab runs under the exercise name (or --lab-name), the task gets its names filled in', async () => {
  const ex = await parseExercise(text(), FILE);
  assert.is(ex.name, 'ex-one');
  assert.is(ex.lab.name, 'ex-one');
  assert.is(ex.lab.file, join(FIX, 'lab.yaml'));
  assert.is(ex.checks[0].hint, 'look at the selector');
  assert.is(ex.checks[0].timeout, 30);
  assert.equal(ex.warnings, []);
  assert.is(taskText(ex), 'Fix ex-one in lab ex-one.');
  const renamed = await parseExercise(text(), FILE, { labName: 't-ex-42' });
  assert.is(renamed.lab.layout.name, 't-ex-42');
  assert.is(taskText(renamed), 'Fix ex-one in lab t-ex-42.');
});

// [behaviour, exercise text, location, message]
const cases: [string, string, string, string | RegExp][] = [
  ['a check without a hint', text({ checks: 'checks:\n  - assert: proxy-rules\n    service: web-svc\n    port: 80\n' }),
    'ex.yaml:11 checks[0].hint', 'missing required field "hint"'],
  ['an unknown field in a check lists the allowed ones', text({ checks: 'checks:\n  - assert: ranges-disjoint\n    hint: h\n    hnit: typo\n' }),
    'ex.yaml:13 checks[0].hnit', /^unknown field "hnit"; allowed fields: assert, name, timeout, modes, hint$/],
  ['a step where a check belongs', text({ checks: 'checks:\n  - step: wait\n    seconds: 1\n    hint: h\n' }),
    'ex.yaml:11 checks[0].assert', /^missing required field "assert" \(one of: service-ip, /],
  ['an unknown assertion names the valid ones', text({ checks: 'checks:\n  - assert: ping\n    hint: h\n' }),
    'ex.yaml:11 checks[0].assert', /^unknown assert "ping"; valid asserts: service-ip, .*ranges-disjoint$/],
  ['no checks at all', text({ checks: 'checks: []\n' }), 'ex.yaml:10 checks', 'must have at least 1 item'],
  ['a missing title', text({ head: 'apiVersion: svclab.dev/v1alpha1\nkind: Exercise\nmetadata: { name: ex-one }\nlab: lab.yaml\n' }),
    'ex.yaml:3 metadata.title', 'missing required field "title"'],
  ['an exercise name that cannot name a lab', text({ head: 'apiVersion: svclab.dev/v1alpha1\nkind: Exercise\nmetadata: { name: Ex_One, title: t }\nlab: lab.yaml\n' }),
    'ex.yaml:3 metadata.name', /^Invalid value: "Ex_One": a lowercase RFC 1123 label/],
  ['a lab file that does not exist', text({ head: 'apiVersion: svclab.dev/v1alpha1\nkind: Exercise\nmetadata: { name: ex-one, title: t }\nlab: nope.yaml\n' }),
    'ex.yaml:4 lab', `the lab file ${join(FIX, 'nope.yaml')} does not exist (lab: is relative to this exercise file)`],
  ['a lab with its own mistake is told at the lab file\'s line', text({ head: 'apiVersion: svclab.dev/v1alpha1\nkind: Exercise\nmetadata: { name: ex-one, title: t }\nlab: bad-lab.yaml\n' }),
    `${join(FIX, 'bad-lab.yaml')}:3 proxy.mode`, 'unknown proxy mode "ebpf"; valid proxy modes: iptables, nftables, ipvs, userspace'],
  ['an unknown proxy mode for the exercise', text({ head: 'apiVersion: svclab.dev/v1alpha1\nkind: Exercise\nmetadata: { name: ex-one, title: t }\nlab: lab.yaml\nmode: ebpf\n' }),
    'ex.yaml:5 mode', 'unknown proxy mode "ebpf"; valid proxy modes: iptables, nftables, ipvs, userspace'],
  ['a check aimed at a node the lab does not have', text({ checks: 'checks:\n  - assert: exec\n    on: { node: node-09 }\n    command: [ls]\n    expect: { exitCode: 0 }\n    hint: h\n' }),
    'ex.yaml:12 checks[0].on.node', 'node "node-09" is not in this lab (nodes: node-01, node-02, node-03)'],
  ['a variable no earlier check saves', text({ checks: 'checks:\n  - assert: exec\n    on: { node: node-01 }\n    command: [nft, list, chain, ip, kube-proxy, "${chain}"]\n    expect: { exitCode: 0 }\n    hint: h\n' }),
    'ex.yaml:13 checks[0].command[5]', 'variable ${chain} is used before any assertion saves it (add save: chain to an earlier service-ip assertion)'],
  ['an answer step with both a value and a command', text({ solution: 'solution:\n  - step: answer\n    key: mode\n    value: iptables\n    from: { on: { node: node-01 }, command: [hostname] }\n' }),
    'ex.yaml:16 solution[0]', 'an answer step needs exactly one of value: (the answer) or from: (a command whose output holds it)'],
  ['a solution applying a file that is not there', text({ solution: 'solution:\n  - step: apply\n    file: svc.yaml\n' }),
    'ex.yaml:17 solution[0].file', `cannot read ${join(FIX, 'svc.yaml')}: no such file`],
  ['a solution rebuilding into ranges that collide with the node network', text({ solution: 'solution:\n  - step: reconfigure\n    cluster: { serviceCIDR: 192.168.0.0/16 }\n' }),
    'ex.yaml:17 solution[0].cluster.serviceCIDR', /^the node network 192\.168\.49\.0\/24 overlaps the service CIDR 192\.168\.0\.0\/16/],
  ['a break step applying a ClusterIP outside the service range', text({ break: 'break:\n  - step: apply\n    manifest:\n      apiVersion: v1\n      kind: Service\n      metadata: { name: s }\n      spec: { clusterIP: 10.0.0.5, ports: [{ port: 80 }] }\n' }),
    'ex.yaml:11 break[0].manifest.spec.clusterIP', /failed to allocate IP 10\.0\.0\.5: the provided IP \(10\.0\.0\.5\) is not in the valid range/],
];

for (const [name, t, where, message] of cases) {
  test(name, async () => {
    const e = await failure(t);
    assert.is(e.location, where.startsWith('/') ? where : FIX + where);
    if (typeof message === 'string') assert.is(e.message, message);
    else assert.match(e.message, message);
  });
}

test('a check naming a Service that neither the lab nor the steps create is a warning at its line', async () => {
  const ex = await parseExercise(text({ checks: 'checks:\n  - assert: service-ip\n    service: other\n    hint: h\n' }), FILE);
  assert.equal(ex.warnings, [`${FILE}:12 checks[0].service: service "default/other" is not in manifests or any apply step; it must exist by the time this item runs`]);
});

test('every shipped exercise loads without warnings, with a hint on every check and a solution', async () => {
  const files = exerciseFiles(EXERCISES);
  assert.ok(files.length >= 8, `${files.length} exercises`);
  const labNames = new Set<string>();
  for (const f of files) {
    const ex = await loadExercise(f);
    assert.equal(ex.warnings, [], f);
    assert.ok(ex.checks.every((c) => c.hint.length > 10), f);
    assert.ok(ex.solution.length > 0, f);
    labNames.add(ex.lab.name);
  }
  assert.is(labNames.size, files.length, 'each exercise runs its own lab');
});

test('the committed schema/exercise.schema.json is the generated one (run scripts/gen-lab-schema.ts)', () => {
  assert.fixture(readFileSync(new URL('../../schema/exercise.schema.json', import.meta.url), 'utf8'), renderExerciseJsonSchema());
});

test.run();
