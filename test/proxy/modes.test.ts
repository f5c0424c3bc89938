// The proxy-mode registry: every mode in PROXY_MODES has a module, each module
// renders a small state offline, says what it needs from the host, and reads
// its own rules back (here from its own render, as the kernel tools print it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LabNode } from '../../src/cluster/driver.ts';
import { PROXY_MODES } from '../../src/k8s/proxy-mode.ts';
import { proxyMode } from '../../src/proxy/modes.ts';
import type { ModeHost } from '../../src/proxy/mode-module.ts';
import type { ExpectedServicePort } from '../../src/proxy/rules-check.ts';
import { CheckFailed, EnvironmentError } from '../../src/util/errors.ts';
import { ep, settings, state, svc } from './ipvs/fixtures.ts';

const db = svc('default', 'db', '', { clusterIP: '10.96.0.20', port: 3306 });
const small = state([[db, [ep('10.244.1.2', 3306, { nodeName: 'node-02' }), ep('10.244.2.2', 3306, { nodeName: 'node-03' })]]]);
const nodeSettings = settings({ nodeName: 'node-02', nodeIPs: ['192.168.49.3'] });

const want: ExpectedServicePort = {
  ns: 'default', name: 'db', key: 'default/db', clusterIP: '10.96.0.20', port: 3306, protocol: 'TCP',
  nodePort: 0, externalTrafficPolicy: 'Cluster',
  endpoints: [{ ip: '10.244.1.2', port: 3306, nodeName: 'node-02' }, { ip: '10.244.2.2', port: 3306, nodeName: 'node-03' }],
};

/** A node whose every command prints `stdout` (the kernel tool's view of the rules). */
function nodePrinting(stdout: string): LabNode {
  return {
    name: 'node-02', ip: '192.168.49.3',
    async exec() {
      return { code: 0, stdout, stderr: '' };
    },
    startDaemon: async () => 0, writeFile: async () => {}, readFile: async () => undefined,
  } as LabNode;
}

/** iptables-save prints a host address with its /32 where the restore payload had none. */
const asIptablesSave = (restore: string) => restore.replace(/ (-[sd]) (\d+\.\d+\.\d+\.\d+)(?= )/g, ' $1 $2/32');

const vmHost: ModeHost = {
  sharesHostKernel: false,
  needsHostTools: false,
  hasIPVS: async () => {
    throw new Error('a VM host has its own kernel: the host kernel is not asked');
  },
};

for (const name of PROXY_MODES) {
  test(`${name}: the registry has a module of that name that renders a small state`, () => {
    const mode = proxyMode(name);
    assert.is(mode.name, name);
    const out = mode.render(small, nodeSettings);
    assert.ok(out.text.includes('10.96.0.20'), `${name} render names the ClusterIP:\n${out.text}`);
    assert.ok(out.data !== undefined);
    assert.ok(mode.renders.length > 0);
  });

  test(`${name}: VM nodes bring their own kernel and tools, so the host check passes without looking`, async () => {
    assert.is(await proxyMode(name).hostError(vmHost), undefined);
  });
}

test('only nftables mode watches ServiceCIDRs', () => {
  assert.equal(PROXY_MODES.filter((m) => proxyMode(m).watchesServiceCIDRs), ['nftables']);
});

test('ipvs on a shared kernel without ip_vs: the preflight message says so and what to do', async () => {
  const err = await proxyMode('ipvs').hostError({ sharesHostKernel: true, needsHostTools: true, hasIPVS: async () => false });
  assert.instance(err, EnvironmentError);
  assert.match(err!.message, /^IPVS mode needs the kernel's ip_vs \(this kernel .* has none: \/proc\/net\/ip_vs is missing\); run this lab with --driver libvirt, or choose --mode iptables\|nftables$/);
  assert.is(await proxyMode('ipvs').hostError({ sharesHostKernel: true, needsHostTools: true, hasIPVS: async () => true }), undefined);
});

test('iptables and userspace need nothing of a shared host beyond every lab\'s tools', async () => {
  const host: ModeHost = { sharesHostKernel: true, needsHostTools: true, hasIPVS: async () => false };
  assert.is(await proxyMode('iptables').hostError(host), undefined);
  assert.is(await proxyMode('userspace').hostError(host), undefined);
});

test('iptables: the rule check follows its own render (KUBE-SERVICES → KUBE-SVC → 2 KUBE-SEP → DNAT)', async () => {
  const node = nodePrinting(asIptablesSave(proxyMode('iptables').render(small, nodeSettings).text));
  const summary = await proxyMode('iptables').checkRules(node, { service: 'db' }, want);
  assert.match(summary, /^KUBE-SERVICES 10\.96\.0\.20:3306 → KUBE-SVC-\w+ → 2 KUBE-SEP \(probability 0\.5\d*\) → DNAT 10\.244\.1\.2:3306, 10\.244\.2\.2:3306$/);
});

test('iptables: a rendered service is not "absent", and a missing endpoint is named', async () => {
  const node = nodePrinting(asIptablesSave(proxyMode('iptables').render(small, nodeSettings).text));
  try {
    await proxyMode('iptables').checkRules(node, { service: 'db', absent: true }, undefined);
    assert.unreachable('the service is still programmed');
  } catch (e) {
    assert.instance(e, CheckFailed);
    assert.match((e as Error).message, /KUBE-SERVICES still has/);
  }
  const three = { ...want, endpoints: [...want.endpoints, { ip: '10.244.3.2', port: 3306, nodeName: 'node-01' }] };
  try {
    await proxyMode('iptables').checkRules(node, { service: 'db' }, three);
    assert.unreachable('one endpoint is missing from the rules');
  } catch (e) {
    assert.instance(e, CheckFailed);
    assert.match((e as Error).message, /jumps to 2 KUBE-SEP chains, the service has 3 ready endpoints/);
  }
});

test('userspace: the rule check finds the portals of its own render', async () => {
  const node = nodePrinting(proxyMode('userspace').render(small, nodeSettings).text);
  const summary = await proxyMode('userspace').checkRules(node, { service: 'db' }, want);
  assert.match(summary, /^KUBE-PORTALS-CONTAINER 10\.96\.0\.20:3306 → REDIRECT 36000 \(proxy port\), KUBE-PORTALS-HOST too$/);
});

test.run();
