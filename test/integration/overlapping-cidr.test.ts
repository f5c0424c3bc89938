// The overlapping-CIDR demo through the real CLI, in each mode it lists: a
// ClusterIP that is also a pod's IP captures that pod's traffic (answered by
// the Service's backends, shown in the nat rules), then a rebuild with
// disjoint ranges and the Service re-created make the pod answer again.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import { cannotRun, labCopy, passedRun, svclab, uniqueLabName } from './helpers/svclab-cli.ts';

const why = cannotRun();
const MODES = ['iptables', 'userspace'];

if (why) {
  console.log(`\n  SKIP test/integration/overlapping-cidr.test.ts: ${why}\n`);
  for (const mode of MODES) test.skip(`overlapping-cidr in ${mode} mode`, () => {});
} else {
  for (const mode of MODES) {
    test(`overlapping-cidr in ${mode} mode: the collision, the rebuild, the fix`, async () => {
      const name = uniqueLabName(`t-ovl-${mode.slice(0, 4)}`);
      const t0 = Date.now();
      const r = await svclab(['run', labCopy('overlapping-cidr.yaml', name), '--mode', mode, '--down', '-o', 'json']);
      const down = await svclab(['down', name]);
      assert.is(down.code, 0);
      const result = passedRun(r);
      const item = (start: string) => result.items.find((i) => i.name.startsWith(start))!;
      // Before the fix: legacy-app's address answered by web-svc's pods, and the rules say why.
      assert.match(item('traffic to legacy-app\'s own IP').message, /^pod legacy-app \(10\.0\.3\.2\):80: 12 http requests answered by web-\S+×\d+, web-\S+×\d+$/);
      assert.match(item('every node now sends 10.0.3.2:80').message, mode === 'iptables' ? /KUBE-SERVICES 10\.0\.3\.2:80 → KUBE-SVC-/ : /KUBE-PORTALS-CONTAINER 10\.0\.3\.2:80 → REDIRECT/);
      // The rebuild, then the pod answers for itself and the Service from the new range.
      assert.match(item('rebuild the cluster').message, /rebuilt in [\d.]+s: service CIDR 10\.96\.0\.0\/12/);
      assert.is(item('legacy-app answers at its own address again').message, 'pod legacy-app (10.0.3.2):80: 12 http requests answered by legacy-app×12');
      assert.match(result.items.find((i) => i.type === 'service-ip' && i.status === 'pass' && i.message.includes('10.96.0.0/12'))!.message, /^web-svc has ClusterIP 10\.(9[6-9]|10\d|11[01])\./);
      assert.is(readdirSync('/run/netns').filter((n) => n.startsWith(`svclab-${name}-`)).length, 0, 'namespaces left behind');
      console.log(`    overlapping-cidr ${mode}: ${result.passed} passed in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    });
  }
}

test.run();
