// The line each scenario item is printed and reported as: its name: when it
// has one, else built from the fields that tell items of its kind apart.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ScenarioItemSchema } from '../../src/lab/schema.ts';
import { itemTitle } from '../../src/scenario/item-title.ts';

const title = (raw: unknown) => itemTitle(ScenarioItemSchema.parse(raw));

test('a name: wins, except where it names the object (delete steps, object assertions)', () => {
  assert.is(title({ assert: 'reach', name: 'the app reaches the db', from: { pod: 'app=client' }, to: 'db:3306', via: 'sql' }), 'the app reaches the db');
  assert.is(title({ step: 'delete', kind: 'Service', name: 'db' }), 'delete service/db');
  assert.is(title({ assert: 'object', kind: 'Service', name: 'web' }), 'service/web exists');
  assert.is(title({ assert: 'object', kind: 'Service', name: 'web', fields: { 'spec.type': 'NodePort', 'spec.ports[0].nodePort': 30080 } }), 'service/web has spec.type=NodePort, spec.ports[0].nodePort=30080');
});

test('connection checks: the service, the destination and where the connection starts', () => {
  assert.is(title({ assert: 'reach', from: { pod: 'app=client' }, to: 'db:3306', via: 'sql', service: 'db' }), 'reach db → db:3306 from pod app=client');
  assert.is(title({ assert: 'unreachable', from: { external: true }, to: 'each-node:30007', expect: 'refused' }), 'unreachable → each-node:30007 from external');
  assert.is(title({ assert: 'source-ip', from: { node: 'node-02' }, to: 'web:80', via: 'http', expect: 'node' }), 'source-ip → web:80 from node-02');
  assert.is(title({ assert: 'dns', from: { pod: 'client' }, names: ['db'], service: 'db' }), 'dns db from pod client');
});

test('rules, answers, steps and a rebuild', () => {
  assert.is(title({ assert: 'proxy-rules', service: 'db', port: 3306, endpoints: 2 }), 'proxy-rules db (2 endpoints)');
  assert.is(title({ assert: 'proxy-rules', service: 'db', port: 3306, absent: true }), 'proxy-rules db (absent)');
  assert.is(title({ assert: 'answer', key: 'service-cidr', equals: '${serviceCIDR}' }), 'answer service-cidr');
  assert.is(title({ step: 'answer', key: 'proxy-mode', value: 'ipvs' }), 'answer proxy-mode');
  assert.is(title({ step: 'scale', deployment: 'web', replicas: 3 }), 'scale web=3');
  assert.is(title({ step: 'apply', file: 'web.yaml' }), 'apply');
  assert.is(title({ assert: 'ranges-disjoint' }), 'ranges-disjoint');
  assert.is(title({ step: 'reconfigure', cluster: { serviceCIDR: '10.112.0.0/16' }, proxy: { mode: 'nftables' } }), 'rebuild the lab with serviceCIDR 10.112.0.0/16, proxy mode nftables');
});

test.run();
