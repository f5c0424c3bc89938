// A dynamic provider as Pulumi stores it (serialized by the SDK under mocks)
// and as Pulumi's provider host revives it (require-from-string, then
// .handler()), in a plain `node` without the tsx loader: its run-time import of
// the implementation must work there. Only `read` of a network that does not
// exist is called, so nothing on the host changes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as pulumi from '@pulumi/pulumi';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let serialized: string | undefined;
await pulumi.runtime.setMocks({
  newResource(a) {
    if (a.type.endsWith(':LabNetwork')) serialized = a.inputs.__provider;
    return { id: `${a.name}-id`, state: a.inputs };
  },
  call: (a) => a.inputs,
}, 'svclab', 'serialize', false);
const { LabNetwork } = await import('../../stacks/providers.ts');

const props = { lab: 'zz-absent', nodeNetwork: '192.168.77.0/24', gateway: '192.168.77.1', nodes: [], external: { name: 'external', ip: '192.168.77.254' } };

test('the serialized network provider revives in a plain node and reads through the real implementation', async () => {
  const n = new LabNetwork('network', props);
  await new Promise((r) => n.urn.apply(r));
  assert.type(serialized, 'string');
  const dir = mkdtempSync(join(tmpdir(), 'svclab-ser-'));
  try {
    const file = join(dir, 'provider.js');
    writeFileSync(file, serialized!);
    const requireFromString = createRequire(import.meta.url).resolve('require-from-string');
    const host = `
      const p = require(${JSON.stringify(requireFromString)})(require('fs').readFileSync(${JSON.stringify(file)}, 'utf8')).handler();
      p.read('svclab-zz-absent-net', ${JSON.stringify(props)}).then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e); process.exit(1); });`;
    const r = spawnSync(process.execPath, ['-e', host], { cwd: process.cwd(), encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    assert.is(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout.trim().split('\n').at(-1)!), {});
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
