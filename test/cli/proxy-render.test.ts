// `svclab proxy render` through the real CLI: the payload a full sync would
// apply, per mode, from a multi-document YAML of Services and EndpointSlices —
// the same render code the running proxy uses.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN } from '../integration/helpers/svclab-cli.ts';
import { servicePortChainName, endpointChainName } from '../../src/proxy/chain-names.ts';

const dir = mkdtempSync(join(tmpdir(), 'svclab-render-'));
const objects = join(dir, 'objects.yaml');
writeFileSync(objects, `apiVersion: v1
kind: Service
metadata: { name: svc1, namespace: ns1 }
spec:
  clusterIP: 172.30.0.41
  type: NodePort
  ports: [{ name: p80, port: 80, protocol: TCP, targetPort: 80, nodePort: 30080 }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: svc1-abc, namespace: ns1, labels: { kubernetes.io/service-name: svc1 } }
addressType: IPv4
endpoints:
  - addresses: [10.180.00.001]   # leading zeros: normalised as kube-proxy does
    conditions: { ready: true }
    nodeName: node-01
ports: [{ name: p80, port: 80, protocol: TCP }]
`);

function render(...args: string[]) {
  return spawnSync(process.execPath, [BIN, 'proxy', 'render', '--node-name', 'node-01', '--node-ip', '192.168.49.2', '-f', objects, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
}

if (!existsSync(BIN.replace('bin/svclab.js', 'dist/svclab.mjs'))) {
  console.log('\n  SKIP test/cli/proxy-render.test.ts: dist/svclab.mjs is missing (npm run build)\n');
} else {
  test('iptables: filter then nat, with the upstream chain names and the DNAT to the normalised endpoint', () => {
    const r = render('--mode', 'iptables');
    assert.is(r.status, 0, r.stderr);
    const svc = servicePortChainName('ns1/svc1:p80', 'tcp');
    assert.is(svc, 'KUBE-SVC-XPGD46QRK7WJZT7O');
    const sep = endpointChainName('ns1/svc1:p80', 'tcp', '10.180.0.1:80');
    assert.ok(r.stdout.indexOf('*filter') < r.stdout.indexOf('*nat'));
    assert.match(r.stdout, `-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j ${svc}`);
    assert.match(r.stdout, `-A ${sep} -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80`);
    assert.match(r.stdout, /--dport 30080 -j KUBE-EXT-XPGD46QRK7WJZT7O/);
  });

  test('--existing-chains: stale kube-proxy chains from iptables-save are flushed and deleted', () => {
    const saved = join(dir, 'saved.txt');
    writeFileSync(saved, '*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-STALESTALESTALE1 - [0:0]\n:MY-OWN-CHAIN - [0:0]\nCOMMIT\n');
    const r = render('--mode', 'iptables', '--existing-chains', saved);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, '-X KUBE-SVC-STALESTALESTALE1');
    assert.not.match(r.stdout, '-X MY-OWN-CHAIN');
  });

  test('-o json gives the same rules as data', () => {
    const r = render('--mode', 'iptables', '-o', 'json');
    const data = JSON.parse(r.stdout);
    assert.ok(data.nat.rules.some((x: { chain: string; target?: string }) => x.chain === 'KUBE-SERVICES' && x.target === 'KUBE-SVC-XPGD46QRK7WJZT7O'));
  });

  test('nftables: the kube-proxy table with the service-ips map element', () => {
    const r = render('--mode', 'nftables');
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, 'table ip kube-proxy');
    assert.match(r.stdout, /element ip kube-proxy service-ips \{ 172\.30\.0\.41 \. tcp \. 80 : goto service-[A-Z2-7]{8}-ns1\/svc1\/tcp\/p80 \}/);
  });

  test('ipvs: ipvsadm, ipset and iptables payloads; userspace: portal rules', () => {
    const ipvs = render('--mode', 'ipvs');
    assert.is(ipvs.status, 0, ipvs.stderr);
    assert.match(ipvs.stdout, /-A -t 172\.30\.0\.41:80 -s rr/);
    assert.match(ipvs.stdout, /-a -t 172\.30\.0\.41:80 -r 10\.180\.0\.1:80 -m -w 1/);
    assert.match(ipvs.stdout, /create KUBE-CLUSTER-IP hash:ip,port/);
    const us = render('--mode', 'userspace');
    assert.is(us.status, 0, us.stderr);
    assert.match(us.stdout, /KUBE-PORTALS-CONTAINER .*-d 172\.30\.0\.41\/32 .*REDIRECT --to-ports 36000/);
  });

  test('a bad objects file is rejected with exit 2, the file and the line', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: v1\nkind: Service\nmetadata: { name: Bad_Name }\nspec: { ports: [{ port: 80 }] }\n');
    const r = spawnSync(process.execPath, [BIN, 'proxy', 'render', '--mode', 'iptables', '--node-name', 'n', '--node-ip', '1.2.3.4', '-f', bad], { encoding: 'utf8' });
    assert.is(r.status, 2);
    assert.match(r.stderr, /bad\.yaml:3/);
    assert.match(r.stderr, /DNS-1035/);
  });
}

test.run();
