// One test per lab-file mistake: each fixture under fixtures/errors/ must fail
// with a LabFileError naming the file, the exact line and field path, and the
// problem in words.
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatLabError, loadLab } from '../../src/lab/load.ts';
import { LabFileError } from '../../src/util/errors.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

async function failure(name: string): Promise<LabFileError> {
  try {
    await loadLab(fixture(name));
  } catch (e) {
    if (e instanceof LabFileError) return e;
    throw e;
  }
  throw new Error(`${name} loaded without an error`);
}

const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

// [behaviour, fixture, line, path, message (exact string, or a pattern)]
const cases: [string, string, number, string | undefined, string | RegExp][] = [
  ['text that is not YAML fails with the parser\'s line', 'errors/not-yaml.yaml', 4, undefined, 'not valid YAML: Tabs are not allowed as indentation (column 1)'],
  ['a key written twice is a YAML error', 'errors/duplicate-key.yaml', 6, undefined, 'not valid YAML: Map keys must be unique (column 3)'],
  ['an unknown key says which keys are allowed', 'errors/unknown-key.yaml', 5, 'cluster.podCidr',
    'unknown field "podCidr"; allowed fields: nodeNetwork, nodes, podCIDR, serviceCIDR, nodePortRange, externalClient'],
  ['a missing field points at its parent mapping', 'errors/missing-field.yaml', 10, 'manifests[0].spec.ports[0].port', 'missing required field "port"'],
  ['a wrong type names what was expected and what was found', 'errors/wrong-type.yaml', 12, 'manifests[1].spec.ports[0].port', 'expected a number, got the string "3306"'],
  ['an invalid CIDR uses the CIDR module\'s words', 'errors/bad-cidr.yaml', 5, 'cluster.serviceCIDR', '"10.96.0.1/12" has host bits set; the network is 10.96.0.0/12'],
  ['a node IP outside the node network', 'errors/node-outside-network.yaml', 6, 'cluster.nodes[1].ip', 'node IP 192.168.50.3 is outside the node network 192.168.49.0/24'],
  ['duplicate node names', 'errors/duplicate-node-name.yaml', 7, 'cluster.nodes[2].name', 'duplicate node name "node-01" (also cluster.nodes[0])'],
  ['duplicate node IPs', 'errors/duplicate-node-ip.yaml', 6, 'cluster.nodes[1].ip', /^duplicate node IP: node IP 192\.168\.49\.10 is also cluster\.nodes\[0\]'s/],
  ['the node network overlapping the service CIDR', 'errors/node-network-overlap.yaml', 4, 'cluster.nodeNetwork',
    /^the node network 10\.96\.0\.0\/24 overlaps the service CIDR 10\.96\.0\.0\/12 \(cluster\.serviceCIDR\) on 10\.96\.0\.0\/24/],
  ['the node network overlapping the pod CIDR points at the range written in the file', 'errors/node-network-overlaps-pods.yaml', 4, 'cluster.podCIDR',
    /^the node network 192\.168\.49\.0\/24 overlaps the pod CIDR 192\.168\.0\.0\/16 \(cluster\.podCIDR\) on 192\.168\.49\.0\/24/],
  ['a pod CIDR without a /24 per node', 'errors/pod-cidr-too-small.yaml', 5, 'cluster.podCIDR',
    'pod CIDR 10.244.0.0/23 is too small for 3 nodes: it has room for 2 /24 slices (one per node)'],
  ['a node port range beyond 65535', 'errors/node-port-range.yaml', 4, 'cluster.nodePortRange', 'port range "30000-70000" must lie within 1-65535'],
  ['a malformed node port range', 'errors/node-port-range-malformed.yaml', 4, 'cluster.nodePortRange', '"30000..32767" is not a port range (write it like 30000-32767)'],
  ['a lab name that is not a DNS-1123 label, in Kubernetes\' words', 'errors/bad-lab-name.yaml', 4, 'metadata.name', `Invalid value: "ClusterIP_DB": ${LABEL_MSG}`],
  ['a lab name longer than 30 characters', 'errors/long-lab-name.yaml', 4, 'metadata.name',
    'Invalid value: "a-lab-name-that-is-far-too-long-for-netns": must be no more than 30 characters'],
  ['a Service name that is not a DNS-1035 label', 'errors/bad-service-name.yaml', 7, 'manifests[0].metadata.name', `Invalid value: "3db": ${DNS1035_MSG}`],
  ['an unknown proxy mode lists the valid ones', 'errors/bad-proxy-mode.yaml', 4, 'proxy.mode', 'unknown proxy mode "ebpf"; valid proxy modes: iptables, nftables, ipvs, userspace'],
  ['an unknown image lists the known ones', 'errors/unknown-image.yaml', 14, 'manifests[0].spec.template.spec.containers[0].image',
    /^unknown image "docker\.io\/library\/redis:7"; svclab runs a local program for these images: nginx\*, mariadb\*, mysql\*, .*busybox\*/],
  ['a Deployment selector that does not match its template labels', 'errors/selector-mismatch.yaml', 13, 'manifests[0].spec.template.metadata.labels',
    'Invalid value: {"app":"frontend"}: `selector` does not match template `labels`'],
  ['an unknown step lists the valid steps', 'errors/unknown-step.yaml', 6, 'scenario[1].step', 'unknown step "restart"; valid steps: apply, delete, scale, exec, wait, answer, reconfigure'],
  ['an unknown assertion lists the valid ones', 'errors/unknown-assert.yaml', 4, 'scenario[0].assert',
    'unknown assert "ping"; valid asserts: service-ip, proxy-rules, dns, reach, unreachable, exec, source-ip, object, answer, ranges-disjoint'],
  ['a scenario item with neither step nor assert', 'errors/scenario-item-kind.yaml', 4, 'scenario[0]', /^needs either "step" \(apply, .*\) or "assert" \(service-ip, /],
  ['a target node that is not in the lab', 'errors/unknown-node-target.yaml', 5, 'scenario[0].from.node', 'node "node-09" is not in this lab (nodes: node-01, node-02, node-03)'],
  ['a variable used before an assertion saves it', 'errors/variable-before-save.yaml', 11, 'scenario[0].to', /^variable \$\{dbIP\} is used before any assertion saves it/],
  ['an unsupported kind lists the supported ones', 'errors/unsupported-kind.yaml', 5, 'manifests[0].kind', /^unsupported kind "Ingress"; svclab understands: v1 Service, v1 Pod, /],
  ['a ClusterIP outside the service CIDR, in the apiserver\'s words', 'errors/cluster-ip-out-of-range.yaml', 8, 'manifests[0].spec.clusterIP',
    'Invalid value: "10.0.0.10": failed to allocate IP 10.0.0.10: the provided IP (10.0.0.10) is not in the valid range. The range of valid IPs is 10.96.0.0/12'],
  ['a NodePort outside the node port range', 'errors/node-port-out-of-range.yaml', 12, 'manifests[0].spec.ports[0].nodePort',
    'Invalid value: 30100: provided port is not in the valid range. The range of valid ports is 30000-30099'],
  ['a pod pinned to a node the lab does not have', 'errors/unknown-node-name.yaml', 8, 'manifests[0].spec.nodeName', 'node "node-04" is not in this lab (nodes: node-01, node-02, node-03)'],
  ['the same object twice in manifests', 'errors/duplicate-manifest.yaml', 10, 'manifests[1].metadata.name', 'duplicate Service default/db (also manifests[0])'],
  ['an apply step naming a file that does not exist', 'errors/apply-file-missing.yaml', 5, 'scenario[0].file', /^cannot read .*errors\/nowhere\.yaml: no such file$/],
];

for (const [behaviour, name, line, path, message] of cases) {
  test(behaviour, async () => {
    const e = await failure(name);
    assert.is(e.file, fixture(name));
    assert.is(e.line, line, `line of ${name}: ${e.message}`);
    assert.is(e.path, path);
    if (typeof message === 'string') assert.is(e.message, message);
    else assert.match(e.message, message);
  });
}

test('an error inside an apply step\'s file points into that file', async () => {
  const e = await failure('errors/apply-file-invalid.yaml');
  assert.ok(e.file?.endsWith('fixtures/objects/bad-port.yaml'), e.file);
  assert.is(e.line, 12);
  assert.is(e.path, 'spec.ports[0].port');
  assert.is(e.message, 'must be between 1 and 65535, inclusive');
});

test('formatLabError prints file:line path: message', async () => {
  const e = await failure('errors/bad-proxy-mode.yaml');
  assert.is(formatLabError(e), `${fixture('errors/bad-proxy-mode.yaml')}:4 proxy.mode: unknown proxy mode "ebpf"; valid proxy modes: iptables, nftables, ipvs, userspace`);
  assert.is(formatLabError(new LabFileError('no objects', 'x.yaml')), 'x.yaml: no objects');
});

test.run();
