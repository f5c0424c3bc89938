import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Container, Pod } from '../../src/k8s/objects.ts';
import {
  planProgram, renderNginxConf, renderMariadbInit, expandVars, sqlString, ProgramError,
  type ProgramContext,
} from '../../src/workloads/programs.ts';

const pod: Pod = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web-7d4f9', namespace: 'shop', uid: 'u-1', labels: { app: 'web' } },
  spec: { nodeName: 'node-02', containers: [] },
};
const ctx: ProgramContext = {
  pod, podIP: '10.244.1.7', hostIP: '192.168.49.3',
  workDir: '/var/lib/svclab/lab/pods/shop_web-7d4f9/c',
  bundle: '/work/main/dist/svclab.mjs', nodeBinary: '/usr/bin/node',
  dnsHostsDir: '/var/lib/svclab/lab/dns-hosts',
};
const c = (extra: Partial<Container>): Container => ({ name: 'c', image: 'x', ...extra });
const golden = (name: string) => readFileSync(fileURLToPath(new URL(name, import.meta.url)), 'utf8');

test('a shell container without a command sleeps forever', () => {
  assert.equal(planProgram('shell', c({}), ctx).argv, ['sleep', 'infinity']);
});

test('a shell container runs command then args, exactly as given', () => {
  const p = planProgram('shell', c({ command: ['sh', '-c'], args: ['echo "$(x)"; sleep 1'] }), ctx);
  assert.equal(p.argv, ['sh', '-c', 'echo "$(x)"; sleep 1']);
});

test('args alone are the command of a shell image (busybox has no entrypoint)', () => {
  assert.equal(planProgram('shell', c({ args: ['sleep', '5'] }), ctx).argv, ['sleep', '5']);
});

test('command replaces the entrypoint of any image: a mariadb client pod runs sleep', () => {
  const p = planProgram('mariadb', c({ command: ['sleep', 'infinity'] }), ctx);
  assert.equal(p.argv, ['sleep', 'infinity']);
  assert.is(p.mariadbDatadir, undefined);
  assert.equal(p.files, []);
});

test('nginx runs in the foreground with its config, prefix and error log in the work dir', () => {
  const p = planProgram('nginx', c({ ports: [{ containerPort: 8080 }, { containerPort: 9000, protocol: 'UDP' }] }), ctx);
  assert.equal(p.argv, ['nginx', '-p', ctx.workDir, '-c', `${ctx.workDir}/nginx.conf`, '-e', 'stderr']);
  assert.is(p.files.length, 1);
  assert.match(p.files[0].content, /listen 8080;/);
  assert.not.match(p.files[0].content, /listen 9000;/);
  assert.ok(p.dirs.includes(`${ctx.workDir}/temp`));
});

test('nginx listens on 80 when the container declares no port', () => {
  assert.match(planProgram('nginx', c({}), ctx).files[0].content, /^\s+listen 80;$/m);
});

test('nginx.conf names the pod and the client on every page (golden)', () => {
  assert.fixture(renderNginxConf([80, 8080], '/pods/default_web/nginx'), golden('nginx.conf.expected.txt'));
});

test('mariadbd gets a per-pod datadir, socket, pid file, init file and small buffers', () => {
  const p = planProgram('mariadb', c({ ports: [{ containerPort: 3307 }], env: [{ name: 'MARIADB_ROOT_PASSWORD', value: 'lab' }] }), ctx);
  const w = ctx.workDir;
  assert.equal(p.argv.slice(0, 12), [
    'mariadbd', '--no-defaults', '--user=root', `--datadir=${w}/data`, `--socket=${w}/mysqld.sock`, '--port=3307',
    '--bind-address=0.0.0.0', '--skip-name-resolve', `--pid-file=${w}/mariadbd.pid`, `--tmpdir=${w}/tmp`,
    `--init-file=${w}/init.sql`, '--innodb-buffer-pool-size=16M',
  ]);
  assert.ok(p.argv.includes('--performance-schema=off'));
  assert.is(p.mariadbDatadir, `${w}/data`);
  assert.equal(p.files.map((f) => [f.path, f.mode]), [[`${w}/init.sql`, 0o600]]);
});

test('mariadb listens on 3306 without a containerPort; option args are appended to mariadbd', () => {
  const env = [{ name: 'MYSQL_ROOT_PASSWORD', value: 'x' }];
  const p = planProgram('mariadb', c({ env, args: ['--max-connections=5'] }), ctx);
  assert.ok(p.argv.includes('--port=3306'));
  assert.is(p.argv[p.argv.length - 1], '--max-connections=5');
  assert.is(planProgram('mariadb', c({ env, args: ['mariadbd', '--skip-ssl'] }), ctx).argv.at(-1), '--skip-ssl');
  assert.equal(planProgram('mariadb', c({ args: ['mariadb', '-h', 'db'] }), ctx).argv, ['mariadb', '-h', 'db']);
});

test('the init SQL makes root@% with the password, escaped', () => {
  const sql = renderMariadbInit({ MARIADB_ROOT_PASSWORD: "it's\\x" });
  assert.is(sql.split('\n')[0], `CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY 'it\\'s\\\\x';`);
  assert.match(sql, /^GRANT ALL PRIVILEGES ON \*\.\* TO 'root'@'%' WITH GRANT OPTION;$/m);
  assert.match(sql, /^ALTER USER 'root'@'localhost' IDENTIFIED BY 'it\\'s\\\\x';$/m);
  assert.ok(sql.endsWith('FLUSH PRIVILEGES;\n'));
});

test('the init SQL allows an empty root password only when asked, like the image', () => {
  assert.throws(() => renderMariadbInit({}), (e: unknown) => e instanceof ProgramError && /MARIADB_ROOT_PASSWORD/.test(e.message));
  assert.match(renderMariadbInit({ MARIADB_ALLOW_EMPTY_ROOT_PASSWORD: '1' }), /IDENTIFIED BY '';/);
  assert.match(renderMariadbInit({ MYSQL_ALLOW_EMPTY_PASSWORD: 'yes' }), /'root'@'%' IDENTIFIED BY '';/);
});

test('the init SQL creates MARIADB_DATABASE and MARIADB_USER', () => {
  const sql = renderMariadbInit({ MYSQL_ROOT_PASSWORD: 'r', MARIADB_DATABASE: 'shop`x', MARIADB_USER: 'app', MARIADB_PASSWORD: 'p' });
  assert.match(sql, /^CREATE DATABASE IF NOT EXISTS `shop``x`;$/m);
  assert.match(sql, /^CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'p';$/m);
  assert.match(sql, /^GRANT ALL PRIVILEGES ON `shop``x`\.\* TO 'app'@'%';$/m);
});

test('every init SQL statement is on one line, even with a newline in the password', () => {
  const sql = renderMariadbInit({ MARIADB_ROOT_PASSWORD: 'a\nb' });
  assert.ok(sql.trim().split('\n').every((l) => l.endsWith(';')));
  assert.is(sqlString('a\nb\0'), "'a\\nb\\0'");
});

test('netexec runs our bundle with agnhost defaults', () => {
  assert.equal(planProgram('netexec', c({}), ctx).argv,
    ['/usr/bin/node', '/work/main/dist/svclab.mjs', 'daemon', 'netexec', '--http-port', '8080', '--udp-port', '8081']);
});

test('netexec reads agnhost args in both flag forms, with or without /agnhost', () => {
  const tail = (x: Partial<Container>) => planProgram('netexec', c(x), ctx).argv.slice(4);
  assert.equal(tail({ args: ['netexec', '--http-port=80', '--udp-port', '90'] }), ['--http-port', '80', '--udp-port', '90']);
  assert.equal(tail({ command: ['/agnhost', 'netexec'], args: ['--http-port', '8000'] }), ['--http-port', '8000', '--udp-port', '8081']);
  assert.equal(planProgram('netexec', c({ args: ['pause'] }), ctx).argv, ['sleep', 'infinity']);
  assert.throws(() => planProgram('netexec', c({ args: ['serve-hostname'] }), ctx), /agnhost serve-hostname is not supported/);
  assert.throws(() => planProgram('netexec', c({ args: ['netexec', '--http-port=x'] }), ctx), /not a port/);
});

test('dns runs dnsmasq in the foreground, authoritative for cluster.local, reading the hosts dir', () => {
  const p = planProgram('dns', c({ args: ['-conf', '/etc/coredns/Corefile'] }), ctx);
  assert.equal(p.argv, [
    'dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts',
    '--hostsdir=/var/lib/svclab/lab/dns-hosts', '--local=/cluster.local/', '--domain-needed', '--bogus-priv',
    '--user=root', '--pid-file=', '--log-facility=-', '--port=53',
  ]);
  assert.equal(p.readinessOverride, { tcpSocket: { port: 53 }, periodSeconds: 2 });
});

test('env: values in order, $(VAR) expansion, downward API fields; nothing inherited', () => {
  const p = planProgram('shell', c({
    env: [
      { name: 'A', value: 'a' },
      { name: 'B', value: '$(A)-$(MISSING)-$$(A)' },
      { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
      { name: 'OPT', valueFrom: { secretKeyRef: { name: 's', key: 'k', optional: true } } },
    ],
    command: ['echo', '$(POD)@$(IP)'],
  }), ctx);
  assert.equal(p.env, {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOSTNAME: 'web-7d4f9', HOME: '/root',
    A: 'a', B: 'a-$(MISSING)-$(A)', POD: 'web-7d4f9', IP: '10.244.1.7', APP: 'web',
  });
  assert.equal(p.argv, ['echo', 'web-7d4f9@10.244.1.7']);
});

test('env from a Secret is a clear config error', () => {
  const x = c({ env: [{ name: 'S', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] });
  assert.throws(() => planProgram('shell', x, ctx), (e: unknown) => e instanceof ProgramError && e.reason === 'CreateContainerConfigError');
});

test('expandVars leaves text without references alone', () => {
  assert.is(expandVars('plain $HOME and $(', {}), 'plain $HOME and $(');
});

test.run();
