// Hand-assigned node pod ranges, the overlap they allow, and the reconfigure
// step that rebuilds a lab with other ranges — checked at load, located at
// the step's line.
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadLab, parseLab } from '../../src/lab/load.ts';
import { reconfigureLab } from '../../src/lab/reconfigure.ts';
import { LabFileError } from '../../src/util/errors.ts';

const HEAD = 'apiVersion: svclab.dev/v1alpha1\nkind: Lab\n';
const repoFile = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));

function failure(text: string): LabFileError {
  try {
    parseLab(text, 'lab.yaml');
  } catch (e) {
    if (e instanceof LabFileError) return e;
    throw e;
  }
  throw new Error('loaded without an error');
}

const HAND = `${HEAD}cluster:
  podCIDR: 10.0.0.0/16
  serviceCIDR: 10.0.0.0/20
  nodes:
    - { name: node-01, podCIDR: 10.0.1.0/24 }
    - { name: node-02 }
    - { name: node-03, podCIDR: 10.0.3.0/24 }
`;

test('a hand-assigned node pod range is used as given; the others are carved around it and the service range', () => {
  const lab = parseLab(HAND, 'lab.yaml');
  assert.equal(lab.layout.nodes.map((n) => n.podCIDR), ['10.0.1.0/24', '10.0.16.0/24', '10.0.3.0/24']);
});

test('the overlap warning names both ranges, the span and the nodes whose ranges lie inside it', () => {
  const [w, ...rest] = parseLab(HAND, 'lab.yaml').warnings;
  assert.is(rest.length, 0);
  assert.is(w,
    'lab.yaml:4 cluster.podCIDR: pod CIDR 10.0.0.0/16 overlaps service CIDR 10.0.0.0/20 on 10.0.0.0/20: Kubernetes accepts this, and node-01 (10.0.1.0/24), node-03 (10.0.3.0/24) have pod ranges inside the overlap, so pod addresses there can also be ClusterIPs; keep the ranges apart');
});

test('a node pod range outside the pod CIDR, overlapping another node\'s, or too small is refused at its line', () => {
  const nodes = (a: string, b: string) => `${HEAD}cluster:\n  nodes:\n    - { name: node-01, podCIDR: ${a} }\n    - { name: node-02, podCIDR: ${b} }\n`;
  let e = failure(nodes('10.245.0.0/24', '10.244.1.0/24'));
  assert.is(e.location, 'lab.yaml:5 cluster.nodes[0].podCIDR');
  assert.is(e.message, "node pod CIDR 10.245.0.0/24 is outside the pod CIDR 10.244.0.0/16 (cluster.podCIDR, kube-proxy's --cluster-cidr)");
  e = failure(nodes('10.244.0.0/23', '10.244.1.0/24'));
  assert.is(e.location, 'lab.yaml:6 cluster.nodes[1].podCIDR');
  assert.is(e.message, 'node pod CIDR 10.244.1.0/24 overlaps node "node-01"\'s 10.244.0.0/23 (cluster.nodes[0].podCIDR)');
  e = failure(nodes('10.244.0.0/29', '10.244.1.0/24'));
  assert.is(e.message, 'node pod CIDR 10.244.0.0/29 is too small: use /28 or larger');
});

const STEP = (change: string) => `${HEAD}cluster:
  podCIDR: 10.0.0.0/16
  serviceCIDR: 10.0.0.0/20
manifests:
  - apiVersion: v1
    kind: Service
    metadata: { name: web }
    spec: { selector: { app: web }, ports: [{ port: 80 }] }
scenario:
  - step: reconfigure
${change}
  - step: apply
    manifest:
      apiVersion: v1
      kind: Service
      metadata: { name: pinned }
      spec: { clusterIP: 10.0.3.2, selector: { app: web }, ports: [{ port: 80 }] }
`;

test('objects applied after a reconfigure step meet the rebuilt cluster\'s ranges', () => {
  const e = failure(STEP('    cluster: { serviceCIDR: 10.96.0.0/12 }'));
  assert.is(e.location, 'lab.yaml:19 scenario[1].manifest.spec.clusterIP');
  assert.match(e.message, 'the provided IP (10.0.3.2) is not in the valid range. The range of valid IPs is 10.96.0.0/12');
  // Without the change the same ClusterIP is fine.
  parseLab(STEP('    proxy: { mode: nftables }'), 'lab.yaml');
});

test('a reconfigure step\'s bad range, node list or emptiness is refused at the step', () => {
  let e = failure(STEP('    cluster: { serviceCIDR: 192.168.49.0/28 }'));
  assert.is(e.location, 'lab.yaml:13 scenario[0].cluster.serviceCIDR');
  assert.match(e.message, /^the node network 192\.168\.49\.0\/24 overlaps the service CIDR/);
  e = failure(STEP('    cluster: { nodes: [{ name: node-01 }, { name: node-9 }, { name: node-03 }] }'));
  assert.is(e.location, 'lab.yaml:13 scenario[0].cluster.nodes[1].name');
  assert.is(e.message, 'node 2 is "node-02" in this lab; a rebuilt lab keeps its node names, in order');
  e = failure(STEP('    name: nothing'));
  assert.is(e.location, 'lab.yaml:12 scenario[0]');
  assert.is(e.message, 'a reconfigure step needs cluster: (new ranges) or proxy: (a new mode), or both');
});

test('reconfigureLab keeps what the step leaves alone, including a --mode override', () => {
  const lab = parseLab(HAND, 'lab.yaml', { mode: 'userspace' });
  const next = reconfigureLab(lab, { cluster: { serviceCIDR: '10.96.0.0/12' } });
  assert.is(next.layout.serviceCIDR, '10.96.0.0/12');
  assert.is(next.layout.dnsIP, '10.96.0.10');
  assert.is(next.layout.proxyMode, 'userspace');
  assert.equal(next.layout.nodes.map((n) => n.podCIDR), ['10.0.1.0/24', '10.0.0.0/24', '10.0.3.0/24']);
  assert.equal(next.warnings, []);
  assert.is(reconfigureLab(lab, { proxy: { mode: 'nftables' } }).layout.proxyMode, 'nftables');
});

test('a lab can be loaded under another name (an exercise, a test), which must still be a short DNS label', () => {
  assert.is(parseLab(HAND, 'lab.yaml', { name: 'ex-1' }).layout.name, 'ex-1');
  assert.throws(() => parseLab(HAND, 'lab.yaml', { name: 'Ex_1' }), /lab name Invalid value: "Ex_1"/);
});

test('labs/overlapping-cidr.yaml loads with the overlap warning and a rebuild to disjoint ranges', async () => {
  const lab = await loadLab(repoFile('labs/overlapping-cidr.yaml'));
  assert.is(lab.warnings.length, 1);
  assert.match(lab.warnings[0], 'pod CIDR 10.0.0.0/16 overlaps service CIDR 10.0.0.0/20 on 10.0.0.0/20');
  const step = lab.spec.scenario.find((i) => 'step' in i && i.step === 'reconfigure');
  assert.ok(step && 'step' in step && step.step === 'reconfigure');
  assert.is(reconfigureLab(lab, step as never).layout.serviceCIDR, '10.96.0.0/12');
});

test.run();
