// The Pulumi program under Pulumi's mocks: which resources a lab becomes,
// their inputs and dependencies, what a proxy-mode change touches, and the
// stack outputs. No engine, no libvirt: the mocks record every registration.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as pulumi from '@pulumi/pulumi';
import mocks from '@pulumi/pulumi/runtime/mocks.js';
import type { LabStackConfig } from '../../stacks/program.ts';

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, any>;
  deps: string[];
}

let registered: Registered[] = [];
const urnName = (urn: string) => urn.split('::').at(-1)!;

// The dependency list is what the engine would order and replace by; the
// mocks' newResource does not see it, so record it at the monitor.
const proto = mocks.MockMonitor.prototype as any;
const original = proto.registerResource;
proto.registerResource = function (req: any, cb: any) {
  const deps = req.getDependenciesList().map(urnName);
  const done = (err: unknown, res: any) => {
    if (!err) registered.find((r) => r.name === req.getName())!.deps = deps.sort();
    cb(err, res);
  };
  return original.call(this, req, done);
};

const SVC_JSON = JSON.stringify({ kind: 'List', items: [
  { metadata: { name: 'kubernetes', namespace: 'default' }, spec: { clusterIP: '10.96.0.1' } },
  { metadata: { name: 'db-service', namespace: 'default' }, spec: { clusterIP: '10.100.23.7' } },
] });

await pulumi.runtime.setMocks({
  newResource(args) {
    registered.push({ type: args.type, name: args.name, inputs: args.inputs, deps: [] });
    const state: Record<string, unknown> = { ...args.inputs };
    if (args.type.endsWith(':NodeVolume')) state.disk = `/var/lib/svclab/${args.inputs.lab}/vms/${args.inputs.node}/disk.qcow2`;
    if (args.type.endsWith(':NodeDomain')) state.domain = `svclab-${args.inputs.layout.lab}-${args.inputs.layout.nodes[args.inputs.index].name}`;
    if (args.type === 'command:local:Command') {
      state.stdout = args.name === 'services' ? SVC_JSON : args.name === 'scenario' ? '{"passed":7,"failed":0}' : '';
    }
    return { id: `${args.name}-id`, state };
  },
  call: (args) => args.inputs,
}, 'svclab', 'clusterip-db', false);

const { labStack } = await import('../../stacks/program.ts');

function config(mode: string): LabStackConfig {
  return {
    labFile: '/src/svclab/labs/clusterip-db.yaml', labSha256: 'aa'.repeat(32),
    layout: {
      lab: 'clusterip-db', nodeNetwork: '192.168.49.0/24', gateway: '192.168.49.1',
      nodes: [
        { name: 'node-01', ip: '192.168.49.2', podCIDR: '10.244.0.0/24' },
        { name: 'node-02', ip: '192.168.49.3', podCIDR: '10.244.1.0/24' },
        { name: 'node-03', ip: '192.168.49.4', podCIDR: '10.244.2.0/24' },
      ],
      external: { name: 'external', ip: '192.168.49.254' },
    },
    mode, uri: 'qemu:///system', image: '', memoryMiB: 320, vcpus: 1, backend: 'libvirt',
    bundle: '/src/svclab/dist/svclab.mjs', bundleSha256: 'bb'.repeat(32),
    svclab: ['/usr/bin/node', '/src/svclab/dist/svclab.mjs'], argvRunner: ['/usr/bin/node', '/src/svclab/stacks/argv.mjs'],
  };
}

const resolve = <T>(o: pulumi.Output<T>) => new Promise<T>((res) => o.apply(res));

/** Runs the program once and waits until every registration reached the mocks. */
async function deploy(mode: string) {
  registered = [];
  const out = labStack(config(mode));
  const result = { nodeIps: await resolve(out.nodeIps), serviceIps: await resolve(out.serviceIps), scenario: await resolve(out.scenario), domains: await resolve(out.domains) };
  // Outputs resolve once their resources registered; give the last dependency lists a turn.
  await new Promise((r) => setTimeout(r, 50));
  return { result, registered: [...registered] };
}

const byName = (rs: Registered[], name: string) => {
  const r = rs.find((x) => x.name === name);
  assert.ok(r, `resource ${name} registered`);
  return r!;
};
// Inputs without the serialized provider code (large, and the same for every instance of a type).
const inputsOf = (r: Registered) => JSON.stringify({ ...r.inputs, __provider: undefined });

const first = await deploy('iptables');

test('a lab is one network, and per node a volume, a domain and the bundle, then five commands', () => {
  assert.equal(first.registered.map((r) => `${r.type} ${r.name}`).sort(), [
    'command:local:Command control-plane', 'command:local:Command proxy-config', 'command:local:Command scenario',
    'command:local:Command services', 'command:local:Command workloads',
    ...['node-01', 'node-02', 'node-03'].flatMap((n) => [
      `pulumi-nodejs:dynamic/svclab:NodeBundle bundle-${n}`, `pulumi-nodejs:dynamic/svclab:NodeDomain domain-${n}`,
      `pulumi-nodejs:dynamic/svclab:NodeVolume volume-${n}`,
    ]),
    'pulumi-nodejs:dynamic/svclab:LabNetwork network',
  ].sort());
});

test('dynamic resources carry a serialized provider (Pulumi runs it later, in its provider host)', () => {
  const p = byName(first.registered, 'network').inputs.__provider;
  assert.type(p, 'string');
  assert.match(p, /createNetwork/);
});

test('inputs for the lab: node network, the domain of each node, VM settings', () => {
  const net = byName(first.registered, 'network').inputs;
  assert.equal([net.lab, net.nodeNetwork, net.gateway, net.external.ip], ['clusterip-db', '192.168.49.0/24', '192.168.49.1', '192.168.49.254']);
  const d2 = byName(first.registered, 'domain-node-02').inputs;
  assert.equal([d2.index, d2.memoryMiB, d2.vcpus, d2.backend, d2.uri, d2.disk],
    [1, 320, 1, 'libvirt', 'qemu:///system', '/var/lib/svclab/clusterip-db/vms/node-02/disk.qcow2']);
  assert.is(byName(first.registered, 'volume-node-03').inputs.node, 'node-03');
  assert.is(byName(first.registered, 'bundle-node-01').inputs.sha256, 'bb'.repeat(32));
});

test('commands are argv for the runner, never shell text', () => {
  const pc = byName(first.registered, 'proxy-config').inputs;
  assert.equal(pc.interpreter, ['/usr/bin/node', '/src/svclab/stacks/argv.mjs']);
  assert.equal(JSON.parse(pc.create), ['/usr/bin/node', '/src/svclab/dist/svclab.mjs', 'proxy', 'restart', 'clusterip-db', '--mode', 'iptables']);
  assert.equal(JSON.parse(byName(first.registered, 'control-plane').inputs.delete).slice(2), ['down', 'clusterip-db', '--keep-nodes']);
});

test('dependencies: domains after network and volume; bundle after domain; the commands in order', () => {
  const deps = (n: string) => byName(first.registered, n).deps;
  assert.equal(deps('domain-node-01'), ['network', 'volume-node-01']);
  assert.equal(deps('bundle-node-03'), ['domain-node-03']);
  assert.equal(deps('control-plane'), ['bundle-node-01', 'bundle-node-02', 'bundle-node-03']);
  assert.equal(deps('proxy-config'), ['control-plane']);
  assert.equal(deps('workloads'), ['control-plane', 'proxy-config']);
  assert.ok(deps('scenario').includes('workloads') && deps('scenario').includes('proxy-config'));
  assert.equal(deps('network'), []);
});

test('changing the proxy mode changes the inputs of proxy-config only: no VM, volume or network is replaced', async () => {
  const second = await deploy('nftables');
  assert.is(second.registered.length, first.registered.length);
  const changed = first.registered.filter((r) => inputsOf(r) !== inputsOf(byName(second.registered, r.name))).map((r) => r.name);
  assert.equal(changed, ['proxy-config']);
  assert.is(byName(second.registered, 'proxy-config').inputs.triggers[0], 'nftables');
});

test('changing VM memory replaces the domains, not the network or volumes', async () => {
  registered = [];
  const cfg = { ...config('iptables'), memoryMiB: 384 };
  const out = labStack(cfg);
  await resolve(out.domains);
  await new Promise((r) => setTimeout(r, 50));
  const changed = first.registered.filter((r) => inputsOf(r) !== inputsOf(byName(registered, r.name))).map((r) => r.name);
  assert.equal(changed, ['domain-node-01', 'domain-node-02', 'domain-node-03']);
});

test('outputs: node IPs, service IPs from `svclab get svc -o json`, the scenario result, domain names', () => {
  assert.equal(first.result.nodeIps, { 'node-01': '192.168.49.2', 'node-02': '192.168.49.3', 'node-03': '192.168.49.4' });
  assert.equal(first.result.serviceIps, { 'default/kubernetes': '10.96.0.1', 'default/db-service': '10.100.23.7' });
  assert.equal(first.result.scenario, { passed: 7, failed: 0 });
  assert.equal(first.result.domains, ['svclab-clusterip-db-node-01', 'svclab-clusterip-db-node-02', 'svclab-clusterip-db-node-03']);
});

test.run();
