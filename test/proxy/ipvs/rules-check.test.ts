// The IPVS rule check against what ipvsadm, ipset and ip print (the output
// shapes of ipvsadm 1.31 / ipset 7.17 / iproute2 on Debian 12 — the VM image's
// tools; the lab runs it against real kernels on VMs).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LabNode } from '../../../src/cluster/driver.ts';
import { checkIpvsRules } from '../../../src/proxy/ipvs/rules-check.ts';
import type { ExpectedServicePort } from '../../../src/proxy/rules-check.ts';

const IPVSADM = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.97.16.154:3306 rr
  -> 10.244.1.2:3306              Masq    1      0          0
  -> 10.244.2.2:3306              Masq    1      0          0
TCP  192.168.49.3:30007 rr
  -> 10.244.1.2:3306              Masq    1      0          0
  -> 10.244.2.2:3306              Masq    1      0          0
`;
const IPSET = `create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x1
add KUBE-CLUSTER-IP 10.97.16.154,tcp:3306
create KUBE-NODE-PORT-TCP bitmap:port range 0-65535
add KUBE-NODE-PORT-TCP 30007
`;
const ADDR = '5: kube-ipvs0    inet 10.97.16.154/32 scope global kube-ipvs0\\       valid_lft forever preferred_lft forever\n';

function fakeNode(out: { ipvsadm?: string; ipset?: string; addr?: string }): LabNode {
  return {
    name: 'node-02', ip: '192.168.49.3',
    async exec(argv) {
      const stdout = argv[0] === 'ipvsadm' ? out.ipvsadm ?? IPVSADM : argv[0] === 'ipset' ? out.ipset ?? IPSET : out.addr ?? ADDR;
      return { code: 0, stdout, stderr: '' };
    },
    startDaemon: async () => 0, writeFile: async () => {}, readFile: async () => undefined,
  } as LabNode;
}

const want: ExpectedServicePort = {
  ns: 'default', name: 'db-service', key: 'default/db-service', clusterIP: '10.97.16.154', port: 3306, protocol: 'TCP',
  nodePort: 30007, externalTrafficPolicy: 'Cluster',
  endpoints: [{ ip: '10.244.1.2', port: 3306, nodeName: 'node-02' }, { ip: '10.244.2.2', port: 3306, nodeName: 'node-03' }],
};

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  assert.unreachable('the check passed');
  return '';
}

test('a ClusterIP: virtual server with both pods, the address on kube-ipvs0, the KUBE-CLUSTER-IP entry', async () => {
  const s = await checkIpvsRules(fakeNode({}), { service: 'db-service' }, want);
  assert.match(s, 'TCP 10.97.16.154:3306 rr → 10.244.1.2:3306, 10.244.2.2:3306');
  assert.match(s, 'KUBE-CLUSTER-IP 10.97.16.154,tcp:3306');
});

test('each missing piece is named', async () => {
  assert.match(await failure(checkIpvsRules(fakeNode({ ipvsadm: IPVSADM.split('TCP  192')[0].replace(/.*10\.244\.2\.2.*\n/, '') }), { service: 'db-service' }, want)),
    'has real servers 10.244.1.2:3306, expected 10.244.1.2:3306, 10.244.2.2:3306');
  assert.match(await failure(checkIpvsRules(fakeNode({ addr: '' }), { service: 'db-service' }, want)), '10.97.16.154 is not on kube-ipvs0');
  assert.match(await failure(checkIpvsRules(fakeNode({ ipset: IPSET.replace('add KUBE-CLUSTER-IP 10.97.16.154,tcp:3306\n', '') }), { service: 'db-service' }, want)),
    'ipset KUBE-CLUSTER-IP has no entry 10.97.16.154,tcp:3306');
  assert.match(await failure(checkIpvsRules(fakeNode({ ipvsadm: 'IP Virtual Server version 1.2.1 (size=4096)\n' }), { service: 'db-service' }, want)),
    'no virtual server TCP 10.97.16.154:3306');
});

test('a draining real server (weight 0) no longer counts', async () => {
  const draining = IPVSADM.replace('-> 10.244.2.2:3306              Masq    1', '-> 10.244.2.2:3306              Masq    0');
  const one = { ...want, endpoints: want.endpoints.slice(0, 1) };
  assert.match(await checkIpvsRules(fakeNode({ ipvsadm: draining }), { service: 'db-service' }, one), '→ 10.244.1.2:3306;');
});

test('NodePort: a virtual server on the node address and the port in KUBE-NODE-PORT-TCP', async () => {
  assert.match(await checkIpvsRules(fakeNode({}), { service: 'db-service', nodePort: true }, want), 'NodePort TCP 192.168.49.3:30007 → 2 real servers; KUBE-NODE-PORT-TCP 30007');
  assert.match(await failure(checkIpvsRules(fakeNode({ ipset: IPSET.replace('add KUBE-NODE-PORT-TCP 30007\n', '') }), { service: 'db-service', nodePort: true }, want)),
    'ipset KUBE-NODE-PORT-TCP has no entry 30007');
  // eTP Local on a node with an endpoint: only that one.
  assert.match(await failure(checkIpvsRules(fakeNode({}), { service: 'db-service', nodePort: true }, { ...want, externalTrafficPolicy: 'Local' })),
    '192.168.49.3:30007 has real servers 10.244.1.2:3306, 10.244.2.2:3306, expected 10.244.1.2:3306');
});

test('absent: the former ClusterIP must be gone from ipvsadm, the ipset and kube-ipvs0', async () => {
  const empty = fakeNode({ ipvsadm: 'IP Virtual Server version 1.2.1 (size=4096)\n', ipset: 'create KUBE-CLUSTER-IP hash:ip,port family inet\n', addr: '' });
  assert.match(await checkIpvsRules(empty, { service: 'db-service', absent: true }, undefined, want), 'no virtual server TCP 10.97.16.154:3306');
  assert.match(await failure(checkIpvsRules(fakeNode({}), { service: 'db-service', absent: true }, undefined, want)),
    'db-service was deleted but virtual server TCP 10.97.16.154:3306, KUBE-CLUSTER-IP entry, 10.97.16.154 on kube-ipvs0 remain');
  assert.match(await failure(checkIpvsRules(empty, { service: 'db-service', absent: true }, undefined, undefined)), 'needs an earlier proxy-rules check');
});

test.run();
