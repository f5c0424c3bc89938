// The learner's own kubectl against a lab, through the real CLI: `svclab up`
// merges context svclab-<lab> into $KUBECONFIG and serves the API on
// 127.0.0.1:<port> (TLS end to end, admin client certificate); kubectl lists
// the lab's pods and knows who it is; anonymous HTTPS gets 401; `down` removes
// the context, the listener and every file, and the host's network namespace
// gained nothing but that loopback listener while the lab was up.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { run } from '../../src/util/exec.ts';
import { labStateDir } from '../../src/cluster/common/state-dir.ts';
import { cannotRun, labCopy, svclab, uniqueLabName } from './helpers/svclab-cli.ts';
import { diffFingerprints, fingerprintScope, hostFingerprint, remember } from './host-fingerprint.ts';

const why = cannotRun() ?? (existsSync('/usr/bin/kubectl') || (await run(['sh', '-c', 'command -v kubectl'], { allowFailure: true })).code === 0 ? undefined : 'no kubectl on PATH');
if (why) {
  console.log(`\n  SKIP test/integration/kubeconfig.test.ts: ${why}\n`);
  test.skip("the learner's kubectl against a lab", () => {});
} else {
  const lab = uniqueLabName('t-reach');
  const file = labCopy('nodeport-web.yaml', lab);
  const dir = mkdtempSync(join(tmpdir(), 'svclab-reach-'));
  const kubeconfig = join(dir, 'config');
  const context = `svclab-${lab}`;
  // The user's kubeconfig already holds a cluster of their own; it must come through untouched.
  const MINE = 'apiVersion: v1\nkind: Config\nclusters:\n- name: mine\n  cluster:\n    server: https://10.0.0.1:6443\nusers:\n- name: me\n  user:\n    token: t0ken\ncontexts:\n- name: mine\n  context:\n    cluster: mine\n    user: me\ncurrent-context: mine\n';
  const env = { KUBECONFIG: kubeconfig };
  const kubectl = (...args: string[]) => run(['kubectl', '--cache-dir', join(dir, 'cache'), '--request-timeout', '30s', ...args], { env, allowFailure: true, timeoutMs: 90_000 });
  /** Listening TCP sockets of the host's namespace. */
  const listeners = async () => (await run(['ss', '-Hltn'])).stdout.split('\n').map((l) => l.trim().split(/\s+/)[3]).filter(Boolean).sort();

  test("up merges svclab-<lab>; kubectl lists the lab's pods as kubernetes-admin; anonymous gets 401; down removes it all", async () => {
    writeFileSync(kubeconfig, MINE, { mode: 0o600 });
    const scope = fingerprintScope(lab);
    const before = await hostFingerprint(scope);
    const listenBefore = await listeners();
    let port = 0;
    let forwarderPid = 0;
    try {
      const up = await svclab(['up', file, '-o', 'json'], env);
      assert.is(up.code, 0, `svclab up failed:\n${up.stderr}`);
      const info = JSON.parse(up.stdout);
      assert.is(info.kubeconfig.file, kubeconfig);
      assert.is(info.kubeconfig.context, context);
      port = Number(new URL(info.kubeconfig.server).port);
      assert.is(info.kubeconfig.server, `https://127.0.0.1:${port}`);
      await remember(scope);
      const rec = JSON.parse(readFileSync(join(labStateDir(lab), 'lab.json'), 'utf8'));
      assert.is(rec.apiPort, port);
      forwarderPid = JSON.parse(readFileSync(join(labStateDir(lab), 'api-forward.json'), 'utf8')).pid;

      const merged = parse(readFileSync(kubeconfig, 'utf8'));
      assert.is(merged['current-context'], context);
      assert.equal(merged.contexts.map((c: { name: string }) => c.name), ['mine', context]);

      const pods = await kubectl('--context', context, 'get', 'pods', '-A', '-o', 'name');
      assert.is(pods.code, 0, pods.stderr);
      const names = pods.stdout.trim().split('\n');
      assert.is(names.filter((n) => /^pod\/web-[a-z0-9]+-[a-z0-9]+$/.test(n)).length, 2, pods.stdout);
      assert.ok(names.some((n) => n.startsWith('pod/coredns-')), pods.stdout);

      const who = await kubectl('auth', 'whoami');
      assert.is(who.code, 0, who.stderr);
      assert.match(who.stdout, /^Username\s+kubernetes-admin$/m);
      assert.match(who.stdout, /^Groups\s+\[system:masters system:authenticated\]$/m);
      const can = await kubectl('auth', 'can-i', 'delete', 'services');
      assert.is(can.stdout.trim(), 'yes');

      // `svclab kubeconfig LAB` prints the same credentials, usable on their own.
      const printed = await svclab(['kubeconfig', lab], env);
      assert.is(printed.code, 0, printed.stderr);
      writeFileSync(join(dir, 'lab.conf'), printed.stdout, { mode: 0o600 });
      const alone = await run(['kubectl', '--kubeconfig', join(dir, 'lab.conf'), '--cache-dir', join(dir, 'cache'), 'get', 'svc', 'web-service', '-o', 'name'], { allowFailure: true });
      assert.is(alone.stdout.trim(), 'service/web-service', alone.stderr);

      // Anonymous HTTPS (the lab CA trusted, no certificate) gets upstream's 401.
      const ca = Buffer.from(merged.clusters[1].cluster['certificate-authority-data'], 'base64');
      const anon = await new Promise<{ code: number; body: string }>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port, path: '/api/v1/pods', ca }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => resolve({ code: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
      assert.is(anon.code, 401);
      assert.equal(JSON.parse(anon.body), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });

      // The host's namespace gained exactly one listening socket: the loopback endpoint.
      const listenUp = await listeners();
      const added = listenUp.filter((l) => !listenBefore.includes(l));
      assert.ok(added.includes(`127.0.0.1:${port}`), `listeners: ${added.join(', ')}`);
      assert.ok(added.every((l) => l.startsWith('127.0.0.1:')), `a listener beyond loopback: ${added.join(', ')}`);
    } finally {
      const down = await svclab(['down', lab], env);
      assert.is(down.code, 0, down.stderr);
      assert.match(down.stdout, new RegExp(`context ${context} removed from ${kubeconfig}`));
    }
    const after = parse(readFileSync(kubeconfig, 'utf8'));
    assert.equal(after, { ...parse(MINE), 'current-context': '' });
    // Gone, or a zombie its new parent has yet to reap (no command line left).
    const cmdline = existsSync(`/proc/${forwarderPid}`) ? readFileSync(`/proc/${forwarderPid}/cmdline`, 'utf8') : '';
    assert.is(cmdline, '', `the forwarder (pid ${forwarderPid}) still runs`);
    assert.not.ok((await listeners()).includes(`127.0.0.1:${port}`));
    assert.not.ok(existsSync(labStateDir(lab)));
    assert.equal(diffFingerprints(before, await hostFingerprint(scope)), []);
  });

  test.after(() => rmSync(dir, { recursive: true, force: true }));
}

test.run();
