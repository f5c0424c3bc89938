// The MariaDB datadir template is built once even when the kubelets of three
// nodes ask at the same moment. A stand-in mariadb-install-db on PATH counts
// its runs, so this needs neither root nor MariaDB.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const containers = fileURLToPath(new URL('../../src/workloads/containers.ts', import.meta.url));

test('three processes racing for the template: one mariadb-install-db, three datadirs, no lock or temp left', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'svclab-mdbt-'));
  try {
    const bin = join(dir, 'bin');
    const counter = join(dir, 'runs');
    mkdirSync(bin);
    writeFileSync(join(bin, 'mariadb-install-db'), [
      '#!/bin/sh',
      'for a; do case "$a" in --datadir=*) d="${a#--datadir=}";; esac; done',
      'sleep 0.5',
      'mkdir -p "$d/mysql" && echo x > "$d/mysql/user.frm"',
      `echo run >> '${counter}'`,
      '',
    ].join('\n'));
    chmodSync(join(bin, 'mariadb-install-db'), 0o755);
    const cache = join(dir, 'cache');
    const script = `import { ensureMariadbDatadir } from ${JSON.stringify(containers)};\nawait ensureMariadbDatadir(process.argv[1], process.argv[2]);`;
    const codes = await Promise.all([1, 2, 3].map((i) => new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, join(dir, `pod${i}`, 'data'), cache], {
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      child.on('exit', (c) => resolve(c ?? 1));
    })));
    assert.equal(codes, [0, 0, 0]);
    assert.is(readFileSync(counter, 'utf8'), 'run\n');
    for (const i of [1, 2, 3]) assert.ok(existsSync(join(dir, `pod${i}`, 'data', 'mysql', 'user.frm')), `pod${i}`);
    assert.equal(readdirSync(cache), ['mariadb-datadir']);
    assert.equal(readdirSync(join(dir, 'pod1')), ['data']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a template baked into the image is copied and nothing is installed', async () => {
  const { ensureMariadbDatadir } = await import('../../src/workloads/containers.ts');
  const dir = mkdtempSync(join(tmpdir(), 'svclab-mdbt-'));
  try {
    const baked = join(dir, 'baked');
    mkdirSync(join(baked, 'mysql'), { recursive: true });
    writeFileSync(join(baked, 'mysql', 'user.frm'), 'baked');
    // No mariadb-install-db would run: PATH is not touched, and the cache stays empty.
    const t = await ensureMariadbDatadir(join(dir, 'pod', 'data'), join(dir, 'cache'), baked);
    assert.is(t.templateMs, undefined, 'no template was built');
    assert.is(readFileSync(join(dir, 'pod', 'data', 'mysql', 'user.frm'), 'utf8'), 'baked');
    assert.not.ok(existsSync(join(dir, 'cache')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
