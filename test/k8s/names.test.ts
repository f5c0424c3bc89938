// IsValidPortName as the apiserver (Service targetPort) and kubectl (`--tcp port:name`) word it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { portNameErrors } from '../../src/k8s/names.ts';

test('valid IANA service names pass', () => {
  for (const name of ['http', 'web-8080', 'a1', 'abcdefghijklmno']) assert.equal(portNameErrors(name), [], name);
});

test('every problem is reported, in upstream order', () => {
  assert.equal(portNameErrors('abcdefghijklmnop'), ['must be no more than 15 characters']);
  assert.equal(portNameErrors('Http'), ['must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)']);
  assert.equal(portNameErrors('8080'), ['must contain at least one letter (a-z)']);
  assert.equal(portNameErrors('-a--b'), ['must not contain consecutive hyphens', 'must not begin or end with a hyphen']);
  assert.equal(portNameErrors('_'), [
    'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    'must contain at least one letter (a-z)',
  ]);
});

test.run();
