import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cniConfig } from '../../src/cni/config.ts';
import { cniEnv, cniErrorText, parseCniResult, pluginInput, type CniResult } from '../../src/cni/plugins.ts';

const list = cniConfig({ podCIDR: '10.244.0.0/24', dataDir: '/d' });

// What Debian 12's bridge plugin printed for a pod on node-01 (CNI 1.0.0).
const bridgeResult: CniResult = {
  cniVersion: '1.0.0',
  interfaces: [
    { name: 'cni0', mac: '2a:11:22:33:44:55' },
    { name: 'veth1a2b3c4d', mac: '6e:01:02:03:04:05' },
    { name: 'eth0', mac: '0a:58:0a:f4:00:02', sandbox: '/run/netns/svclab-t-p-default-a' },
  ],
  ips: [{ interface: 2, address: '10.244.0.2/24', gateway: '10.244.0.1' }],
  routes: [{ dst: '0.0.0.0/0' }],
  dns: {},
};

test('each plugin gets its own conf plus the list name and version; chained ones the previous result', () => {
  assert.equal(pluginInput(list, list.plugins[1]), { type: 'loopback', name: 'svclab', cniVersion: '1.0.0' });
  assert.equal(pluginInput(list, list.plugins[1], bridgeResult), {
    type: 'loopback',
    name: 'svclab',
    cniVersion: '1.0.0',
    prevResult: bridgeResult,
  });
});

test('the CNI_* environment names the command, container, netns, interface and plugin path', () => {
  const o = { confDir: '/c', netnsPath: '/run/netns/x', containerId: 'default_a_1' };
  assert.equal(cniEnv('ADD', o), {
    CNI_COMMAND: 'ADD',
    CNI_CONTAINERID: 'default_a_1',
    CNI_NETNS: '/run/netns/x',
    CNI_IFNAME: 'eth0',
    CNI_PATH: '/usr/lib/cni',
  });
  assert.is(
    cniEnv('DEL', { ...o, args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'a' } }).CNI_ARGS,
    'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=a',
  );
});

test('the pod address is the one on the sandbox eth0, with its gateway and MAC', () => {
  const r = parseCniResult(bridgeResult);
  assert.equal({ ip: r.ip, cidr: r.cidr, gateway: r.gateway, mac: r.mac }, {
    ip: '10.244.0.2',
    cidr: '10.244.0.2/24',
    gateway: '10.244.0.1',
    mac: '0a:58:0a:f4:00:02',
  });
  assert.is(r.result, bridgeResult);
});

test('a result without an IP is an error that shows the result', () => {
  assert.throws(() => parseCniResult({ cniVersion: '1.0.0', interfaces: [] }), /has no IP address: \{"cniVersion"/);
});

test('plugin errors become text with the spec name of the code', () => {
  assert.is(
    cniErrorText('{"code":7,"msg":"invalid ipam","details":"no subnet"}'),
    'CNI error 7 (invalid network config): invalid ipam: no subnet',
  );
  assert.is(cniErrorText('{"cniVersion":"1.0.0","code":999,"msg":"boom"}'), 'CNI error 999 (plugin-specific error): boom');
  assert.is(cniErrorText('not json'), undefined);
  assert.is(cniErrorText('{"ips":[]}'), undefined);
});

test.run();
