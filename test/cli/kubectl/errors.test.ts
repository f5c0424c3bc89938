// Errors as kubectl prints them (cmdutil.checkErr / StandardErrorMessage).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiError } from '../../../src/controlplane/status.ts';
import { kubectlErrorLine, parseDryRun } from '../../../src/cli/kubectl/errors.ts';
import { KubectlError } from '../../../src/cli/kubectl/generators.ts';

const invalid = (causes: { field: string; message: string }[]) =>
  new ApiError({ kind: 'Status', status: 'Failure', code: 422, reason: 'Invalid', message: 'Deployment.apps "web" is invalid: ...', details: { name: 'web', group: 'apps', kind: 'Deployment', causes: causes.map((c) => ({ reason: 'FieldValueInvalid', ...c })) } });

test('Invalid: the bare kind and one cause on the line, several as a bulleted list', () => {
  assert.is(kubectlErrorLine(invalid([{ field: 'spec.replicas', message: 'Invalid value: -1: must be greater than or equal to 0' }])),
    'The Deployment "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
  assert.is(kubectlErrorLine(invalid([{ field: 'spec.selector', message: 'Required value' }, { field: 'spec.template.metadata.labels', message: 'Invalid value: map[string]string(nil): `selector` does not match template `labels`' }])),
    'The Deployment "web" is invalid: \n* spec.selector: Required value\n* spec.template.metadata.labels: Invalid value: map[string]string(nil): `selector` does not match template `labels`');
  assert.is(kubectlErrorLine(invalid([])), 'The Deployment "web" is invalid');
});

test('other API errors: "Error from server (Reason)", with the file when there is one', () => {
  const nf = new ApiError({ kind: 'Status', status: 'Failure', code: 404, reason: 'NotFound', message: 'services "web" not found', details: { name: 'web', kind: 'services' } });
  assert.is(kubectlErrorLine(nf), 'Error from server (NotFound): services "web" not found');
  assert.is(kubectlErrorLine(nf, { verb: 'deleting', file: 'web.yaml' }), 'Error from server (NotFound): error when deleting "web.yaml": services "web" not found');
});

test('client-side errors are "error: ..."; anything else is not ours to print', () => {
  assert.is(kubectlErrorLine(new KubectlError('selector must be specified')), 'error: selector must be specified');
  assert.is(kubectlErrorLine(new Error('boom')), undefined);
  assert.is(kubectlErrorLine(Object.assign(new Error('the apiserver at unix:/x is not reachable (ECONNREFUSED): is the lab up?'), { code: 'ECONNREFUSED' })), 'the apiserver at unix:/x is not reachable (ECONNREFUSED): is the lab up?');
});

test('--dry-run values', () => {
  assert.is(parseDryRun(undefined), 'none');
  assert.is(parseDryRun(true), 'client');
  assert.is(parseDryRun('server'), 'server');
  assert.throws(() => parseDryRun('yes'), /Invalid dry-run value \(yes\). Must be "none", "server", or "client"./);
});

test.run();
