import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadLab, parseLab } from '../../src/lab/load.ts';
import { LabFileError } from '../../src/util/errors.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const repoFile = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));
const HEAD = 'apiVersion: svclab.dev/v1alpha1\nkind: Lab\n';

test('a lab of only apiVersion and kind gets every default', async () => {
  const lab = await loadLab(fixture('minimal.yaml'));
  assert.is(lab.name, 'minimal');
  assert.is(lab.spec.metadata.name, 'minimal');
  assert.equal(lab.spec.cluster, {
    nodeNetwork: '192.168.49.0/24',
    nodes: [{ name: 'node-01' }, { name: 'node-02' }, { name: 'node-03' }],
    podCIDR: '10.244.0.0/16',
    serviceCIDR: '10.96.0.0/12',
    nodePortRange: '30000-32767',
    externalClient: {},
  });
  assert.equal(lab.spec.cni, { type: 'bridge' });
  assert.equal(lab.spec.proxy, { mode: 'iptables', config: {} });
  assert.equal(lab.spec.manifests, []);
  assert.equal(lab.spec.scenario, []);
  assert.equal(lab.warnings, []);
});

test('the default layout: nodes on .2-.4 with a /24 each, external on .254, kubernetes and DNS service IPs', async () => {
  const { layout } = await loadLab(fixture('minimal.yaml'));
  assert.equal(layout, {
    name: 'minimal',
    nodeNetwork: '192.168.49.0/24',
    gateway: '192.168.49.1',
    nodes: [
      { name: 'node-01', ip: '192.168.49.2', podCIDR: '10.244.0.0/24' },
      { name: 'node-02', ip: '192.168.49.3', podCIDR: '10.244.1.0/24' },
      { name: 'node-03', ip: '192.168.49.4', podCIDR: '10.244.2.0/24' },
    ],
    external: { name: 'external', ip: '192.168.49.254' },
    podCIDR: '10.244.0.0/16',
    serviceCIDR: '10.96.0.0/12',
    apiServerIP: '10.96.0.1',
    dnsIP: '10.96.0.10',
    nodePortRange: { base: 30000, size: 2768 },
    proxyMode: 'iptables',
    clusterDomain: 'cluster.local',
  });
});

test('labs/clusterip-db.yaml loads with no warnings', async () => {
  const lab = await loadLab(repoFile('labs/clusterip-db.yaml'));
  assert.equal(lab.warnings, []);
  assert.is(lab.name, 'clusterip-db');
  assert.equal(lab.spec.manifests.map((m) => `${m.kind}/${m.metadata?.name}`), ['Deployment/db', 'Service/db-service', 'Deployment/client', 'Pod/client-b']);
  const first = lab.spec.scenario[0];
  assert.equal(first, { assert: 'service-ip', service: 'db-service', namespace: 'default', save: 'dbIP', timeout: 30 });
  const last = lab.spec.scenario[lab.spec.scenario.length - 1];
  assert.ok('assert' in last && last.assert === 'unreachable' && last.to === '${dbIP}:3306', 'variables stay as strings');
  const reach = lab.spec.scenario.find((s) => 'assert' in s && s.assert === 'reach');
  assert.equal(reach, { assert: 'reach', from: { pod: 'app=client' }, to: 'db-service:3306', via: 'sql', backends: 'all', attempts: 12, timeout: 30, namespace: 'default' });
});

test('the mode option overrides proxy.mode and warns when the lab does not list it', () => {
  const text = `${HEAD}proxy:\n  mode: iptables\n  modes: [iptables, nftables]\n`;
  const lab = parseLab(text, 'labs/modes.yaml', { mode: 'ipvs' });
  assert.is(lab.layout.proxyMode, 'ipvs');
  assert.is(lab.spec.proxy.mode, 'iptables');
  assert.equal(lab.warnings, ['labs/modes.yaml:5 proxy.modes: running in proxy mode "ipvs", which this lab does not list (iptables, nftables)']);
  assert.equal(parseLab(text, 'labs/modes.yaml', { mode: 'nftables' }).warnings, []);
});

test('nodes without an ip take the (i+2)-th address of a custom node network', () => {
  const lab = parseLab(`${HEAD}cluster:\n  nodeNetwork: 10.10.0.0/24\n  nodes: [{ name: a }, { name: b, ip: 10.10.0.20 }]\n  externalClient: { ip: 10.10.0.100 }\n`, 'x.yaml');
  assert.equal(lab.layout.nodes.map((n) => [n.name, n.ip]), [['a', '10.10.0.2'], ['b', '10.10.0.20']]);
  assert.is(lab.layout.gateway, '10.10.0.1');
  assert.is(lab.layout.external.ip, '10.10.0.100');
});

test('a default node IP taken by an explicit one is an error at the node without ip', () => {
  try {
    parseLab(`${HEAD}cluster:\n  nodes:\n    - { name: a, ip: 192.168.49.3 }\n    - { name: b }\n`, 'x.yaml');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, LabFileError);
    const err = e as LabFileError;
    assert.is(err.line, 6);
    assert.is(err.path, 'cluster.nodes[1]');
    assert.match(err.message, /default IP of node "b" 192\.168\.49\.3 is also cluster\.nodes\[0\]'s/);
  }
});

test('pod CIDR overlapping the service CIDR is a warning naming both ranges and the span; slices skip the service range', () => {
  const lab = parseLab(`${HEAD}cluster:\n  podCIDR: 10.96.0.0/11\n`, 'x.yaml');
  assert.is(lab.warnings.length, 1);
  assert.match(lab.warnings[0], /^x\.yaml:4 cluster\.podCIDR: pod CIDR 10\.96\.0\.0\/11 overlaps service CIDR 10\.96\.0\.0\/12 on 10\.96\.0\.0\/12: /);
  // kube-controller-manager's filterOutServiceRange: no node gets a slice of the service range.
  assert.equal(lab.layout.nodes.map((n) => n.podCIDR), ['10.112.0.0/24', '10.112.1.0/24', '10.112.2.0/24']);
});

test('references to things no manifest or step creates are warnings with their lines', async () => {
  const lab = await loadLab(fixture('warnings.yaml'));
  const file = fixture('warnings.yaml');
  assert.equal(lab.warnings.slice(1), [
    `${file}:16 scenario[0].deployment: deployment "default/web" is not in manifests or any apply step; it must exist by the time this item runs`,
    `${file}:19 scenario[1].service: service "default/api" is not in manifests or any apply step; it must exist by the time this item runs`,
  ]);
});

test('objects from an apply step\'s file are loaded, kept by path, and count as known', async () => {
  const lab = await loadLab(fixture('with-apply-file.yaml'));
  assert.equal(lab.warnings, []);
  assert.equal(Object.keys(lab.files), ['objects/step-objects.yaml']);
  assert.is(lab.files['objects/step-objects.yaml'][0].metadata?.name, 'late');
});

test('parseLab reads apply files through the given reader', () => {
  const seen: string[] = [];
  const lab = parseLab(`${HEAD}scenario:\n  - step: apply\n    file: svc.yaml\n`, '/labs/a.yaml', {
    readFile: (p) => {
      seen.push(p);
      return 'apiVersion: v1\nkind: Namespace\nmetadata: { name: shop }\n';
    },
  });
  assert.equal(seen, ['/labs/svc.yaml']);
  assert.is(lab.files['svc.yaml'][0].kind, 'Namespace');
});

test('an inline apply manifest is checked like a lab manifest, at its own path', () => {
  const text = `${HEAD}scenario:\n  - step: apply\n    manifest:\n      apiVersion: v1\n      kind: Pod\n      metadata: { name: p }\n      spec:\n        containers: [{ name: c, image: redis }]\n`;
  try {
    parseLab(text, 'x.yaml');
    assert.unreachable();
  } catch (e) {
    const err = e as LabFileError;
    assert.is(err.path, 'scenario[0].manifest.spec.containers[0].image');
    assert.is(err.line, 10);
  }
});

test('an apply step needs exactly one of manifest and file', () => {
  try {
    parseLab(`${HEAD}scenario:\n  - step: apply\n    name: nothing\n`, 'x.yaml');
    assert.unreachable();
  } catch (e) {
    const err = e as LabFileError;
    assert.is(err.path, 'scenario[0]');
    assert.is(err.line, 4);
    assert.match(err.message, /exactly one of manifest: .* or file:/);
  }
});

test('a file name that is not a DNS label needs metadata.name', () => {
  try {
    parseLab(HEAD, 'labs/My Lab.yaml');
    assert.unreachable();
  } catch (e) {
    const err = e as LabFileError;
    assert.is(err.path, 'metadata.name');
    assert.match(err.message, /^Invalid value: "My Lab": a lowercase RFC 1123 label .* \(the name comes from the file name; set metadata\.name\)$/);
  }
});

test('an empty file and a missing file are LabFileErrors', async () => {
  assert.throws(() => parseLab('', 'empty.yaml'), (e: LabFileError) => e.line === 1 && /the lab file is empty/.test(e.message));
  try {
    await loadLab(fixture('does-not-exist.yaml'));
    assert.unreachable();
  } catch (e) {
    assert.instance(e, LabFileError);
    assert.match((e as LabFileError).message, /^cannot read the lab file: ENOENT/);
  }
});

test('a partial KubeProxyConfiguration keeps upstream field names and checks them', () => {
  const lab = parseLab(`${HEAD}proxy:\n  mode: ipvs\n  config:\n    clusterCIDR: 10.244.0.0/16\n    ipvs: { scheduler: lc, syncPeriod: 30s }\n    conntrack: { tcpBeLiberal: true }\n`, 'x.yaml');
  assert.equal(lab.spec.proxy.config, { clusterCIDR: '10.244.0.0/16', ipvs: { scheduler: 'lc', syncPeriod: '30s' }, conntrack: { tcpBeLiberal: true } });
  assert.throws(
    () => parseLab(`${HEAD}proxy:\n  config:\n    ipvs: { scheduler: fastest }\n`, 'x.yaml'),
    (e: LabFileError) => e.line === 5 && e.path === 'proxy.config.ipvs.scheduler' && /^unknown IPVS scheduler "fastest"; valid IPVS schedulers: rr, wrr, lc/.test(e.message),
  );
});

test.run();
