// The foundation lab end to end through the real CLI: up, kernel state and
// traffic checked by this test itself (not only by the lab's scenario), the
// scenario, down — and the host exactly as before. Then `up` killed half-way
// and `down` still removing everything.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync, readdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { BIN, cannotRun, labCopy, svclab, uniqueLabName } from './helpers/svclab-cli.ts';
import { diffFingerprints, fingerprintScope, hostFingerprint, remember } from './host-fingerprint.ts';
import { findChain, parseIptablesSave } from '../../src/proxy/iptables/save-parse.ts';
import { servicePortChainName } from '../../src/proxy/chain-names.ts';

const why = cannotRun();
if (why) {
  console.log(`\n  SKIP test/integration/clusterip-db.test.ts: ${why}\n`);
  test.skip('the ClusterIP database lab end to end', () => {});
  test.skip('down after a killed up', () => {});
} else {
  const lab = uniqueLabName('t-cipdb');
  const file = labCopy('clusterip-db.yaml', lab);

  test('the ClusterIP database lab end to end: up, kernel rules, real SQL, scenario, down, host unchanged', async () => {
    const scope = fingerprintScope(lab);
    const before = await hostFingerprint(scope);
    const t0 = Date.now();
    try {
      const up = await svclab(['up', file, '-o', 'json']);
      assert.is(up.code, 0, `svclab up failed:\n${up.stderr}`);
      const upInfo = JSON.parse(up.stdout);
      console.log(`    up: ${((Date.now() - t0) / 1000).toFixed(1)}s — ${upInfo.phases.map((p: { phase: string; seconds: number }) => `${p.phase.split(' (')[0]} ${p.seconds}s`).join(', ')}`);
      await remember(scope);

      // Read the kernel ourselves: node-02's nat table has the chain walk for db-service.
      const svc = JSON.parse((await svclab(['get', 'svc', 'db-service', '-o', 'json', '--lab', lab])).stdout);
      const pods = JSON.parse((await svclab(['get', 'pods', '-l', 'app=db', '-o', 'json', '--lab', lab])).stdout).items;
      assert.is(pods.length, 2);
      const save = await svclab(['exec', 'node-02', '--lab', lab, '--', 'iptables-save', '-t', 'nat']);
      const dump = parseIptablesSave(save.stdout);
      const chain = servicePortChainName('default/db-service', 'tcp');
      const hook = findChain(dump, 'nat', 'KUBE-SERVICES')!.rules.find((r) => r.jump === chain);
      assert.ok(hook, `KUBE-SERVICES has no jump to ${chain}`);
      assert.ok(hook!.args.includes(`${svc.spec.clusterIP}/32`));
      const seps = findChain(dump, 'nat', chain)!.rules.filter((r) => r.jump?.startsWith('KUBE-SEP-'));
      assert.is(seps.length, 2);
      assert.ok(seps[0].args.includes('--probability'));
      const dnats = seps.map((r) => findChain(dump, 'nat', r.jump!)!.rules.find((x) => x.target === 'DNAT')!.args.at(-1));
      assert.equal(new Set(dnats), new Set(pods.map((p: { status: { podIP: string } }) => `${p.status.podIP}:3306`)));

      // Real SQL by name through cluster DNS from the client pod, answered by a replica.
      const sql = await svclab(['exec', 'app=client', '--lab', lab, '--', 'mariadb', '-h', 'db-service', '-uroot', '-plab', '-N', '-B', '-e', 'SELECT @@hostname']);
      assert.is(sql.code, 0, sql.stderr);
      assert.ok(pods.some((p: { metadata: { name: string } }) => p.metadata.name === sql.stdout.trim()), `answered by ${sql.stdout}`);

      const run = await svclab(['run', file, '-o', 'json']);
      const result = JSON.parse(run.stdout);
      const failed = result.items.filter((i: { status: string }) => i.status === 'fail');
      assert.is(run.code, 0, `scenario failed: ${JSON.stringify(failed, null, 2)}`);
      assert.ok(result.passed >= 10);

      // The proxy's metrics, as upstream names them, inside the node: the scenario's scale and
      // delete were partial syncs (only the changed service's chains written).
      const metrics = (await svclab(['exec', 'node-02', '--lab', lab, '--', 'curl', '-s', 'http://127.0.0.1:10249/metrics'])).stdout;
      assert.match(metrics, /^kubeproxy_sync_proxy_rules_duration_seconds_bucket\{le="0.001"\} \d+$/m);
      assert.match(metrics, /^kubeproxy_sync_proxy_rules_iptables_total\{table="nat"\} \d+$/m);
      const partial = Number(metrics.match(/^svclab_proxy_syncs_total\{kind="partial"\} (\d+)$/m)?.[1] ?? 0);
      const full = Number(metrics.match(/^svclab_proxy_syncs_total\{kind="full"\} (\d+)$/m)?.[1] ?? 0);
      assert.ok(partial >= 2, `expected partial syncs after the first full one (full ${full}, partial ${partial})`);
      assert.is(full, 1, 'only the first sync should have been full');
    } finally {
      const down = await svclab(['down', lab]);
      assert.is(down.code, 0, down.stderr);
    }
    console.log(`    up + checks + run + down: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    assert.equal(diffFingerprints(before, await hostFingerprint(scope)), []);
  });

  test('`up` killed half-way (after the nodes exist, while pods start) is cleaned up by `down`', async () => {
    const name = uniqueLabName('t-kill');
    const killFile = labCopy('clusterip-db.yaml', name);
    const scope = fingerprintScope(name);
    const before = await hostFingerprint(scope);
    const child = spawn(process.execPath, [BIN, 'up', killFile], { stdio: 'ignore' });
    // Wait until kubelets have started making pod namespaces, then kill it hard.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !readdirSync('/run/netns').some((n) => n.startsWith(`svclab-${name}-p-`))) await sleep(100);
    child.kill('SIGKILL');
    await remember(scope);
    assert.ok(readdirSync('/run/netns').some((n) => n.startsWith(`svclab-${name}-`)), 'the killed up left nothing to clean: kill came too late or too early');
    const down = await svclab(['down', name]);
    assert.is(down.code, 0, down.stderr);
    assert.ok(!existsSync(`/var/lib/svclab/${name}`));
    assert.equal(diffFingerprints(before, await hostFingerprint(scope)), []);
  });
}

test.run();
