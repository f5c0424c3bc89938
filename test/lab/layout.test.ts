import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultExternalIP, defaultNodeIP, nodePodSlices, parsePortRange } from '../../src/lab/layout.ts';
import { cidrString } from '../../src/util/cidr.ts';

test('port ranges as upstream ParsePortRange reads them', () => {
  assert.equal(parsePortRange('30000-32767'), { base: 30000, size: 2768 });
  assert.equal(parsePortRange('30000+100'), { base: 30000, size: 100 });
  assert.equal(parsePortRange('8080'), { base: 8080, size: 1 });
  assert.throws(() => parsePortRange('0-100'), /must lie within 1-65535/);
  assert.throws(() => parsePortRange('32767-30000'), /ends before it starts/);
  assert.throws(() => parsePortRange('30000-'), /is not a port range/);
});

test('default node and external addresses on a /24 and a /28', () => {
  assert.is(defaultNodeIP('192.168.49.0/24', 0), '192.168.49.2');
  assert.is(defaultExternalIP('192.168.49.0/24'), '192.168.49.254');
  assert.is(defaultExternalIP('10.0.0.16/28'), '10.0.0.30');
});

test('node pod slices are consecutive /24s, skipping the service range', () => {
  assert.equal(nodePodSlices('10.244.0.0/16', '10.96.0.0/12', 2).map(cidrString), ['10.244.0.0/24', '10.244.1.0/24']);
  assert.equal(nodePodSlices('10.96.0.0/11', '10.96.0.0/12', 1).map(cidrString), ['10.112.0.0/24']);
  assert.equal(nodePodSlices('10.244.0.0/25', '10.96.0.0/12', 1), []);
});

test.run();
