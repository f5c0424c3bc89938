// Loads a lab file: YAML -> schema (defaults) -> cluster checks -> layout ->
// object and scenario checks. Any problem throws a LabFileError with file,
// line and field path before anything is created; soft problems become warnings.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join } from 'node:path';
import type { KubeObject } from '../k8s/objects.ts';
import { LabFileError } from '../util/errors.ts';
import { parseWith } from './issues.ts';
import { resolveLayout, type LabLayout } from './layout.ts';
import { dns1123LabelError, invalidValue } from './names.ts';
import { parsePlacedObjects, type PlacedObject } from './objects.ts';
import { checkScenario } from './scenario-check.ts';
import { LAB_NAME_MAX, LabSchema, type LabSpec, type ProxyMode } from './schema.ts';
import { parseYaml, type YamlSource } from './source.ts';
import { checkCluster, checkDuplicates, checkNamespaces, checkObjectsAgainstCluster } from './validate.ts';

export type { LabLayout } from './layout.ts';
export { formatLabError } from './source.ts';

export interface Lab {
  file: string;
  name: string;
  spec: LabSpec;
  layout: LabLayout;
  warnings: string[];
  /** Objects of each `apply` step's `file:`, keyed by the path as written in the step. */
  files: Record<string, KubeObject[]>;
}

export interface LoadOptions {
  /** Run in this proxy mode instead of the lab's proxy.mode (a CI matrix, `--mode`). */
  mode?: ProxyMode;
  /** Reads an apply step's file (an absolute or lab-relative path); default: from disk. */
  readFile?: (path: string) => string;
}

export async function loadLab(file: string, opts: LoadOptions = {}): Promise<Lab> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new LabFileError(`cannot read the lab file: ${(e as Error).message}`, file);
  }
  return parseLab(text, file, opts);
}

/** The lab name when metadata.name is absent: the file's name without extension. */
export function defaultLabName(file: string): string {
  return basename(file, extname(file));
}

export function parseLab(text: string, file: string, opts: LoadOptions = {}): Lab {
  const src = parseYaml(text, file);
  const data = src.data();
  if (data === null || data === undefined) throw new LabFileError('the lab file is empty (it needs at least apiVersion: svclab.dev/v1alpha1 and kind: Lab)', file, 1);
  const parsed = parseWith(LabSchema, data, src);

  const name = parsed.metadata.name ?? defaultLabName(file);
  if (parsed.metadata.name === undefined) {
    const why = dns1123LabelError(name, LAB_NAME_MAX);
    if (why) throw src.error(['metadata', 'name'], `${invalidValue(name, why)} (the name comes from the file name; set metadata.name)`);
  }
  const spec: LabSpec = { ...parsed, metadata: { ...parsed.metadata, name } };

  const warnings = checkCluster(spec, src);
  const modes = spec.proxy.modes;
  if (opts.mode && modes && !modes.includes(opts.mode)) {
    warnings.push(src.warning(['proxy', 'modes'], `running in proxy mode "${opts.mode}", which this lab does not list (${modes.join(', ')})`));
  }
  const layout = resolveLayout(spec, opts.mode ?? spec.proxy.mode);

  const manifests: PlacedObject[] = spec.manifests.map((object, i) => ({ object, source: src.at(['manifests', i]) }));
  checkDuplicates(manifests, (i) => `manifests[${i}]`);
  const { placed: applied, files } = applyStepObjects(spec, src, file, opts.readFile);
  const all = [...manifests, ...applied];
  checkObjectsAgainstCluster(all, layout);
  warnings.push(...checkNamespaces(all));
  warnings.push(...checkScenario(spec, layout, src, all.map((p) => p.object)));

  return { file, name, spec, layout, warnings, files };
}

// Objects the scenario's apply steps bring: inline manifests, and files read
// now so their mistakes surface before the lab starts.
function applyStepObjects(spec: LabSpec, src: YamlSource, file: string, read = (p: string) => readFileSync(p, 'utf8')) {
  const placed: PlacedObject[] = [];
  const files: Record<string, KubeObject[]> = {};
  spec.scenario.forEach((item, i) => {
    if (!('step' in item) || item.step !== 'apply') return;
    if (item.manifest) placed.push({ object: item.manifest, source: src.at(['scenario', i, 'manifest']) });
    if (item.file === undefined || files[item.file]) return;
    const path = isAbsolute(item.file) ? item.file : join(dirname(file), item.file);
    let text: string;
    try {
      text = read(path);
    } catch (e) {
      throw src.error(['scenario', i, 'file'], `cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    const objects = parsePlacedObjects(text, path);
    placed.push(...objects);
    files[item.file] = objects.map((p) => p.object);
  });
  return { placed, files };
}
