// Issue 11's layering, held by a test: no import cycles among src files,
// nothing outside src/cli imports src/cli, and every import points to the
// importer's own folder or a lower one (util, k8s → lab → image → cluster →
// cni → controlplane → proxy → workloads → lifecycle → scenario → trace →
// exercise → cli). Type-only imports count: a type pointing up is a dependency pointing up.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { importCycles, importGraph, importsBetween, layerOf, layerViolations, type ImportGraph } from './import-graph.ts';

const graphOf = (edges: Record<string, string[]>): ImportGraph => ({
  edges: new Map(Object.entries(edges).map(([a, bs]) => [a, new Set(bs)])),
});

const src = importGraph('src');
const list = (lines: string[]) => lines.map((l) => `\n  ${l}`).join('');

// The checks themselves, on graphs made up for them: they must catch what they claim to.
test('layerOf puts a file on its top folder’s floor, subfolders included', () => {
  assert.is(layerOf('src/util/output.ts'), 0);
  assert.is(layerOf('src/k8s/labels.ts'), 0);
  assert.is(layerOf('src/cli/kubectl/format.ts'), 12);
  assert.is(layerOf('src/nowhere/x.ts'), undefined);
  assert.is(layerOf('test/util/cidr.test.ts'), undefined);
});

test('an import up the layers is reported; own folder, same floor and lower floors are not', () => {
  const g = graphOf({
    'src/proxy/a.ts': ['src/proxy/b.ts', 'src/controlplane/c.ts', 'src/util/d.ts', 'src/lifecycle/e.ts'],
    'src/util/d.ts': ['src/k8s/f.ts'],
    'src/k8s/f.ts': ['src/util/g.ts'],
    'src/nowhere/h.ts': [],
  });
  assert.equal(layerViolations(g), ['src/nowhere/h.ts: in no layer', 'src/proxy/a.ts → src/lifecycle/e.ts']);
});

test('importCycles finds each cycle once, as its sorted files', () => {
  const g = graphOf({ 'src/a.ts': ['src/b.ts'], 'src/b.ts': ['src/a.ts', 'src/c.ts'], 'src/c.ts': [] });
  assert.equal(importCycles(g), [['src/a.ts', 'src/b.ts']]);
});

// The real source tree.
test('src has no import cycles', () => {
  const cycles = importCycles(src).map((c) => c.join(' ↔ '));
  assert.equal(cycles, [], `import cycles:${list(cycles)}`);
});

test('nothing outside src/cli imports src/cli', () => {
  const up = importsBetween(src, (f) => !f.startsWith('src/cli/'), (f) => f.startsWith('src/cli/'));
  assert.equal(up, [], `imports into src/cli:${list(up)}`);
});

test('every import in src points to its own folder or a lower layer', () => {
  const up = layerViolations(src);
  assert.equal(up, [], `imports that point up the layers:${list(up)}`);
});

test.run();
