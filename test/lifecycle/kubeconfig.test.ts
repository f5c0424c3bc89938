import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { installContext, kubeconfigPath, labKubeconfig, mergeKubeconfig, removeFromKubeconfig, uninstallContext, type LabCredentials } from '../../src/lifecycle/kubeconfig.ts';

const CREDS: LabCredentials = { lab: 'web', server: 'https://127.0.0.1:41234', caPem: 'CA PEM\n', certPem: 'CERT PEM\n', keyPem: 'KEY PEM\n' };

// A kubeconfig as a user has it: another cluster, a comment, flow style, extensions.
const SAMPLE = `# my clusters
apiVersion: v1
kind: Config
clusters:
  - name: prod # keep me
    cluster: {server: "https://prod.example:6443", insecure-skip-tls-verify: false}
users:
  - name: alice
    user:
      token: secret-token
contexts:
  - name: prod
    context: {cluster: prod, user: alice, namespace: shop}
current-context: prod
preferences: {}
`;

test("a lab's kubeconfig is kind's shape: one cluster, user and context named svclab-<lab>, data inline", () => {
  const k = labKubeconfig(CREDS) as Record<string, any>;
  assert.equal(k.clusters, [{ name: 'svclab-web', cluster: { server: 'https://127.0.0.1:41234', 'certificate-authority-data': Buffer.from('CA PEM\n').toString('base64') } }]);
  assert.equal(k.users[0].user, { 'client-certificate-data': Buffer.from('CERT PEM\n').toString('base64'), 'client-key-data': Buffer.from('KEY PEM\n').toString('base64') });
  assert.equal(k.contexts, [{ name: 'svclab-web', context: { cluster: 'svclab-web', user: 'svclab-web' } }]);
  assert.is(k['current-context'], 'svclab-web');
});

test('merging adds the three entries and makes the context current; every other line stays as it was', () => {
  const merged = mergeKubeconfig(SAMPLE, CREDS);
  const k = parse(merged);
  assert.equal(k.clusters.map((c: { name: string }) => c.name), ['prod', 'svclab-web']);
  assert.equal(k.users.map((c: { name: string }) => c.name), ['alice', 'svclab-web']);
  assert.equal(k.contexts.map((c: { name: string }) => c.name), ['prod', 'svclab-web']);
  assert.is(k['current-context'], 'svclab-web');
  for (const line of ['# my clusters', '  - name: prod # keep me', '    cluster: { server: "https://prod.example:6443", insecure-skip-tls-verify: false }', '      token: secret-token', '    context: { cluster: prod, user: alice, namespace: shop }']) {
    assert.ok(merged.includes(line), `lost: ${line}\n${merged}`);
  }
});

test('merging twice replaces the lab entries instead of adding more (a lab brought up again gets its new port)', () => {
  const again = mergeKubeconfig(mergeKubeconfig(SAMPLE, CREDS), { ...CREDS, server: 'https://127.0.0.1:45555' });
  const k = parse(again);
  assert.is(k.clusters.length, 2);
  assert.is(k.clusters[1].cluster.server, 'https://127.0.0.1:45555');
});

test('removing takes exactly the lab entries and clears current-context only when it pointed at the lab', () => {
  const { text, removed } = removeFromKubeconfig(mergeKubeconfig(SAMPLE, CREDS), 'web');
  assert.ok(removed);
  const k = parse(text);
  assert.equal(k.clusters.map((c: { name: string }) => c.name), ['prod']);
  assert.equal(k.users.map((c: { name: string }) => c.name), ['alice']);
  assert.equal(k.contexts.map((c: { name: string }) => c.name), ['prod']);
  assert.is(k['current-context'], '');
  assert.ok(text.includes('  - name: prod # keep me'));
  const other = removeFromKubeconfig(mergeKubeconfig(SAMPLE, CREDS, false), 'web');
  assert.is(parse(other.text)['current-context'], 'prod');
  assert.not.ok(removeFromKubeconfig(SAMPLE, 'web').removed);
  assert.is(removeFromKubeconfig(SAMPLE, 'web').text, SAMPLE.replace('{server: "https://prod.example:6443", insecure-skip-tls-verify: false}', '{ server: "https://prod.example:6443", insecure-skip-tls-verify: false }').replace('{cluster: prod, user: alice, namespace: shop}', '{ cluster: prod, user: alice, namespace: shop }'));
});

test('an empty or missing file becomes a whole kubeconfig', () => {
  const k = parse(mergeKubeconfig(undefined, CREDS));
  assert.is(k.apiVersion, 'v1');
  assert.is(k.kind, 'Config');
  assert.is(k.contexts[0].name, 'svclab-web');
  // Block style, as kubectl writes a kubeconfig; and so it stays once the lab is gone.
  const removed = removeFromKubeconfig(mergeKubeconfig('', CREDS), 'web').text;
  assert.is(removed, 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\ncurrent-context: ""\n');
});

test('a file that is not a kubeconfig is refused, not overwritten', () => {
  assert.throws(() => mergeKubeconfig('- a\n- b\n', CREDS, true, '/x/config'), /\/x\/config is not a kubeconfig/);
  assert.throws(() => mergeKubeconfig('clusters: {a: 1}\n', CREDS, true, '/x/config'), /clusters is not a list/);
});

test("the file is $KUBECONFIG's first path, else ~/.kube/config", () => {
  assert.is(kubeconfigPath({ KUBECONFIG: '/a/one:/b/two' }, '/home/u'), '/a/one');
  assert.is(kubeconfigPath({ KUBECONFIG: ':/b/two' }, '/home/u'), '/b/two');
  assert.is(kubeconfigPath({}, '/home/u'), '/home/u/.kube/config');
});

test('install creates the file 0600 (it holds a private key), keeps an existing file\'s mode, uninstall removes the entries', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'svclab-kubeconfig-'));
  try {
    const fresh = join(dir, 'new', 'config');
    await installContext(CREDS, fresh);
    assert.is(statSync(fresh).mode & 0o777, 0o600);
    assert.is(parse(readFileSync(fresh, 'utf8'))['current-context'], 'svclab-web');
    const mine = join(dir, 'mine');
    writeFileSync(mine, SAMPLE);
    chmodSync(mine, 0o640);
    await installContext(CREDS, mine);
    assert.is(statSync(mine).mode & 0o777, 0o640);
    assert.is(await uninstallContext('web', mine), mine);
    assert.equal(parse(readFileSync(mine, 'utf8')).clusters.map((c: { name: string }) => c.name), ['prod']);
    assert.is(await uninstallContext('web', mine), undefined);
    assert.is(await uninstallContext('web', join(dir, 'absent')), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
