// Services + EndpointSlices + ServiceCIDRs -> ProxyState.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildProxyState } from '../../src/proxy/proxy-state.ts';
import { makeService, makeSlice } from './iptables/helpers.ts';

const port = (name: string, protocol: string, p: number, nodePort = 0, targetPort = 0) => ({ name, protocol, port: p, nodePort, targetPort });

test('buildProxyState: service ports by key, endpoints for this node, ServiceCIDRs flattened', () => {
  const svc = makeService('ns1', 'svc1', (s) => { s.spec.clusterIP = '172.30.0.41'; s.spec.ports = [port('p80', 'TCP', 80)]; });
  const slice = makeSlice('ns1', 'svc1', 1, (e) => { e.endpoints = [{ addresses: ['10.180.0.1'], nodeName: 'n1' }]; e.ports = [{ name: 'p80', port: 80, protocol: 'TCP' }]; });
  const state = buildProxyState({
    services: [svc], slices: [slice],
    serviceCIDRs: [{ apiVersion: 'networking.k8s.io/v1', kind: 'ServiceCIDR', metadata: { name: 'kubernetes' }, spec: { cidrs: ['10.96.0.0/12', 'fd00::/108'] } }],
  }, { nodeName: 'n1' });
  assert.equal([...state.services.keys()], ['ns1/svc1:p80']);
  assert.equal(state.endpoints.get('ns1/svc1:p80')!.map((e) => [e.endpoint, e.isLocal]), [['10.180.0.1:80', true]]);
  assert.equal(state.serviceCIDRs, ['10.96.0.0/12'], 'IPv4 family only');
});

test.run();
