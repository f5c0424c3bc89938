// Finding the Debian mirror the image is built from, in both apt source formats.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDeb822Sources, parseOneLineSources, pickMirror, configuredMirror } from '../../src/image/mirror.ts';
import { EnvironmentError } from '../../src/util/errors.ts';

const DEB822 = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
`;

test('deb822: every URI with its suites and components', () => {
  assert.equal(parseDeb822Sources(DEB822), [
    { uri: 'http://deb.debian.org/debian', suites: ['bookworm', 'bookworm-updates'], components: ['main'] },
    { uri: 'http://deb.debian.org/debian-security', suites: ['bookworm-security'], components: ['main'] },
  ]);
});

test('deb822: disabled paragraphs and deb-src are skipped', () => {
  const text = 'Types: deb-src\nURIs: http://a/\nSuites: bookworm\n\nEnabled: no\nTypes: deb\nURIs: http://b/\nSuites: bookworm\n';
  assert.equal(parseDeb822Sources(text), []);
});

test('one-line: options in brackets and comments', () => {
  const text = '# deb http://old/ bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://mirror.lan/debian/ bookworm main contrib\ndeb-src http://x/ bookworm main\n';
  assert.equal(parseOneLineSources(text), [{ uri: 'http://mirror.lan/debian/', suites: ['bookworm'], components: ['main', 'contrib'] }]);
});

test('the mirror is the one serving bookworm main, trailing slash removed, not security', () => {
  const sources = [...parseDeb822Sources(DEB822).reverse(), ...parseOneLineSources('deb http://mirror.lan/debian/ bookworm main')];
  assert.is(pickMirror(sources), 'http://deb.debian.org/debian');
  assert.is(pickMirror(parseDeb822Sources(DEB822), 'trixie'), undefined);
});

test('configuredMirror reads sources.list.d and explains when nothing fits', () => {
  const root = mkdtempSync(join(tmpdir(), 'svclab-apt-'));
  try {
    mkdirSync(join(root, 'sources.list.d'));
    writeFileSync(join(root, 'sources.list.d/other.list.disabled'), 'deb http://nope/ bookworm main\n');
    assert.throws(() => configuredMirror('bookworm', root), (e: unknown) => e instanceof EnvironmentError && /--mirror/.test(String((e as EnvironmentError).hint)));
    writeFileSync(join(root, 'sources.list.d/debian.sources'), DEB822);
    assert.is(configuredMirror('bookworm', root), 'http://deb.debian.org/debian');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
