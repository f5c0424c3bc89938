// Which chain kind a service port's traffic goes to under its traffic policies.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { trafficTargets } from '../../src/proxy/traffic-policy.ts';

const policies = (internalPolicyLocal: boolean, externalPolicyLocal: boolean) => ({ internalPolicyLocal, externalPolicyLocal });
const eps = (hasAnyEndpoints: boolean, local: number) => ({ hasAnyEndpoints, localEndpoints: new Array(local) });

test('no endpoints at all: both rejected, whatever the policy', () => {
  for (const [i, e] of [[false, false], [true, true]]) {
    assert.equal(trafficTargets(policies(i, e), eps(false, 0)),
      { internal: 'reject', external: 'reject', hasInternalEndpoints: false, hasExternalEndpoints: false });
  }
});

test('Cluster policies go to the cluster chain', () => {
  assert.equal(trafficTargets(policies(false, false), eps(true, 0)),
    { internal: 'cluster', external: 'cluster', hasInternalEndpoints: true, hasExternalEndpoints: true });
});

test('Local policies: the local chain with local endpoints, else drop', () => {
  assert.equal(trafficTargets(policies(true, false), eps(true, 1)),
    { internal: 'local', external: 'cluster', hasInternalEndpoints: true, hasExternalEndpoints: true });
  assert.equal(trafficTargets(policies(false, true), eps(true, 0)),
    { internal: 'cluster', external: 'drop', hasInternalEndpoints: true, hasExternalEndpoints: false });
  assert.equal(trafficTargets(policies(true, true), eps(true, 0)),
    { internal: 'drop', external: 'drop', hasInternalEndpoints: false, hasExternalEndpoints: false });
});

test.run();
