import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { labJsonSchema, renderLabJsonSchema } from '../../src/lab/json-schema.ts';

test('the committed schema/lab.schema.json is the generated one (run scripts/gen-lab-schema.ts)', () => {
  const committed = readFileSync(new URL('../../schema/lab.schema.json', import.meta.url), 'utf8');
  assert.fixture(committed, renderLabJsonSchema());
});

test('the schema describes what a person writes: required apiVersion/kind, closed top level, scenario items', () => {
  const s = labJsonSchema() as {
    required: string[]; additionalProperties: boolean;
    properties: Record<string, { items?: { anyOf?: unknown[] } }>; $defs: Record<string, unknown>;
  };
  assert.equal(s.required, ['apiVersion', 'kind']);
  assert.is(s.additionalProperties, false);
  assert.equal(Object.keys(s.properties), ['apiVersion', 'kind', 'metadata', 'cluster', 'cni', 'proxy', 'manifests', 'scenario']);
  assert.ok(Object.keys(s.$defs).includes('KubeObject'));
  const text = JSON.stringify(s.properties.scenario);
  for (const name of ['service-ip', 'proxy-rules', 'source-ip', 'apply', 'scale']) assert.ok(text.includes(`"${name}"`), name);
});

test.run();
