// The import graph of src/, read from the source text (static `import … from`,
// `export … from` and dynamic `import('…')` of relative paths). Used by the
// architecture tests to hold the layering, and by `tsx test/architecture/import-graph.ts`
// to print the cycles and the longest functions (issue 11's before/after).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

export interface ImportGraph {
  /** file (relative to the repo, e.g. "src/proxy/daemon.ts") → files it imports */
  edges: Map<string, Set<string>>;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const IMPORT_RE = /(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

export function sourceFiles(root = 'src'): string[] {
  return walk(root).sort();
}

/** Type-only imports count too: a type that points up the layers is a dependency that points up. */
export function importGraph(root = 'src'): ImportGraph {
  const edges = new Map<string, Set<string>>();
  for (const file of sourceFiles(root)) {
    const text = readFileSync(file, 'utf8');
    const out = new Set<string>();
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = m[1] ?? m[2];
      out.add(normalize(join(dirname(file), spec)));
    }
    edges.set(file, out);
  }
  return { edges };
}

/** Strongly connected components with more than one file (Tarjan): each is an import cycle. */
export function importCycles(g: ImportGraph): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const strong = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of g.edges.get(v) ?? []) {
      if (!g.edges.has(w)) continue;
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of g.edges.keys()) if (!idx.has(v)) strong(v);
  return out;
}

/** Imports from `from` (a folder prefix) into `to` (a folder prefix), as "a.ts → b.ts". */
export function importsBetween(g: ImportGraph, from: (f: string) => boolean, to: (f: string) => boolean): string[] {
  const out: string[] = [];
  for (const [a, bs] of g.edges) {
    if (!from(a)) continue;
    for (const b of bs) if (to(b)) out.push(`${a} → ${b}`);
  }
  return out.sort();
}

/**
 * The folders of src/, lowest first (issue 11's target layering). A file may
 * import from its own folder or a lower one; folders on one floor (util, k8s)
 * may import each other.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['util', 'k8s'],
  ['lab'],
  ['image'],
  ['cluster'],
  ['cni'],
  ['controlplane'],
  ['proxy'],
  ['workloads'],
  ['lifecycle'],
  ['scenario'],
  ['trace'],
  ['exercise'],
  ['cli'],
];

/** The floor of a file under `root` (its top folder's index in `layers`), or undefined outside them. */
export function layerOf(file: string, layers: readonly (readonly string[])[] = LAYERS, root = 'src'): number | undefined {
  const parts = file.split('/');
  if (parts[0] !== root || parts.length < 3) return undefined;
  const i = layers.findIndex((floor) => floor.includes(parts[1]));
  return i < 0 ? undefined : i;
}

/** Imports that point up the layers, as "a.ts → b.ts"; a file in a folder of no floor is reported against itself. */
export function layerViolations(g: ImportGraph, layers: readonly (readonly string[])[] = LAYERS, root = 'src'): string[] {
  const out: string[] = [];
  for (const [a, bs] of g.edges) {
    const from = layerOf(a, layers, root);
    if (from === undefined) {
      out.push(`${a}: in no layer`);
      continue;
    }
    for (const b of bs) {
      const to = layerOf(b, layers, root);
      if (to !== undefined && to > from) out.push(`${a} → ${b}`);
    }
  }
  return out.sort();
}

/** The longest functions (by a brace-counting scan of `function` declarations and methods). */
export function longestFunctions(files: string[], n = 10): { where: string; lines: number }[] {
  const found: { where: string; lines: number }[] = [];
  const START = /^\s*(?:export\s+)?(?:async\s+)?(?:function\s*\*?\s*(\w+)|(?:(?:private|public|protected|static|async|readonly)\s+)*(\w+)\s*\([^)]*\)\s*(?::[^{]+)?\{\s*$)/;
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = START.exec(lines[i]);
      if (!m) continue;
      const name = m[1] ?? m[2];
      if (!name || ['if', 'for', 'while', 'switch', 'catch'].includes(name)) continue;
      let depth = 0;
      let j = i;
      let opened = false;
      for (; j < lines.length; j++) {
        for (const ch of lines[j].replace(/(['"`]).*?\1/g, '')) {
          if (ch === '{') (depth++, (opened = true));
          else if (ch === '}') depth--;
        }
        if (opened && depth <= 0) break;
      }
      found.push({ where: `${relative('.', file)}:${i + 1} ${name}`, lines: j - i + 1 });
    }
  }
  return found.sort((a, b) => b.lines - a.lines).slice(0, n);
}

if (process.argv[1]?.endsWith('import-graph.ts')) {
  const g = importGraph();
  const cycles = importCycles(g);
  console.log(`${g.edges.size} files, ${[...g.edges.values()].reduce((n, s) => n + s.size, 0)} imports, ${cycles.length} import cycles`);
  for (const c of cycles) console.log(`  cycle: ${c.join(' ↔ ')}`);
  console.log('below src/cli importing src/cli:');
  for (const l of importsBetween(g, (f) => !f.startsWith('src/cli/'), (f) => f.startsWith('src/cli/'))) console.log(`  ${l}`);
  console.log('imports that point up the layers:');
  for (const l of layerViolations(g)) console.log(`  ${l}`);
  console.log('longest functions:');
  for (const f of longestFunctions(sourceFiles())) console.log(`  ${String(f.lines).padStart(4)}  ${f.where}`);
}
