import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mariadbInstallArgv } from '../../src/image/mariadb.ts';

test('mariadb-install-db builds a small template without test db and with a plain root', () => {
  const a = mariadbInstallArgv('/t/data');
  assert.equal(a.slice(0, 7), ['mariadb-install-db', '--no-defaults', '--user=root', '--datadir=/t/data', '--skip-test-db',
    '--auth-root-authentication-method=normal', '--skip-name-resolve']);
  assert.ok(a.includes('--innodb-log-file-size=4M'));
});

test.run();
