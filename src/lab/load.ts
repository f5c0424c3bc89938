// Loads a lab file: YAML -> schema (defaults) -> cluster checks -> layout ->
// object and scenario checks. Any problem throws a LabFileError with file,
// line and field path before anything is created; soft problems become warnings.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join } from 'node:path';
import type { KubeObject } from '../k8s/objects.ts';
import { LabFileError } from '../util/errors.ts';
import { parseWith } from './issues.ts';
import type { Lab } from './lab.ts';
import { resolveLayout } from './layout.ts';
import { dns1123LabelError, invalidValue } from '../k8s/names.ts';
import { parsePlacedObjects, type PlacedObject } from './objects.ts';
import { checkScenario } from './scenario-check.ts';
import { LAB_NAME_MAX, LabSchema, type LabSpec, type ScenarioItem } from './schema.ts';
import type { ProxyMode } from '../k8s/proxy-mode.ts';
import { parseYaml, type YamlSource } from './source.ts';
import { reconfigureLab } from './reconfigure.ts';
import { checkCluster, checkDuplicates, checkNamespaces, checkObjectsAgainstCluster } from './validate.ts';

export type { LabLayout } from './layout.ts';
export type { Lab } from './lab.ts';
export { formatLabError } from './source.ts';

export interface LoadOptions {
  /** Run in this proxy mode instead of the lab's proxy.mode (a CI matrix, `--mode`). */
  mode?: ProxyMode;
  /** Reads an apply step's file (an absolute or lab-relative path); default: from disk. */
  readFile?: (path: string) => string;
  /** Bring the lab up under this name instead of metadata.name (an exercise, a test's private copy). */
  name?: string;
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

  const name = opts.name ?? parsed.metadata.name ?? defaultLabName(file);
  if (opts.name !== undefined) {
    const why = dns1123LabelError(opts.name, LAB_NAME_MAX);
    if (why) throw new LabFileError(`lab name ${invalidValue(opts.name, why)}`, file);
  } else if (parsed.metadata.name === undefined) {
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
  const lab: Lab = { file, name, spec, layout, warnings, files: {}, source: src };
  const steps = checkSteps(lab, spec.scenario, src, 'scenario', opts.readFile);
  lab.files = steps.files;
  warnings.push(...checkNamespaces([...manifests, ...steps.placed]));
  warnings.push(...steps.warnings);
  warnings.push(...checkScenario(spec, layout, src, [...manifests, ...steps.placed].map((p) => p.object)));

  return lab;
}

export interface CheckedSteps {
  /** Objects of apply steps (inline and from files). */
  placed: PlacedObject[];
  /** Each apply step's `file:`, parsed, keyed by the path as written. */
  files: Record<string, KubeObject[]>;
  /** From reconfigure steps: the rebuilt cluster's range warnings. */
  warnings: string[];
}

/**
 * The objects a list of steps brings (inline manifests, and files read now so
 * their mistakes surface before the lab starts), each checked against the
 * cluster it will meet: a reconfigure step starts a new cluster, where the
 * lab's manifests are applied again. Files are relative to `lab.file` — for an
 * exercise, pass its own path there.
 */
export function checkSteps(lab: Lab, items: ScenarioItem[], src: YamlSource, key: string, read = (p: string) => readFileSync(p, 'utf8')): CheckedSteps {
  const manifests: PlacedObject[] = lab.spec.manifests.map((object, i) => ({ object, source: (lab.source ?? src).at(['manifests', i]) }));
  const placed: PlacedObject[] = [];
  const files: Record<string, KubeObject[]> = {};
  const warnings: string[] = [];
  let current = lab;
  let phase: PlacedObject[] = [];
  const endPhase = () => checkObjectsAgainstCluster([...manifests, ...phase], current.layout);
  items.forEach((item, i) => {
    if (!('step' in item)) return;
    if (item.step === 'reconfigure') {
      endPhase();
      current = reconfigureLab(current, item, src.at([key, i]));
      warnings.push(...current.warnings);
      phase = [];
      return;
    }
    if (item.step !== 'apply') return;
    const add = (...p: PlacedObject[]) => (phase.push(...p), placed.push(...p));
    if (item.manifest) add({ object: item.manifest, source: src.at([key, i, 'manifest']) });
    if (item.file === undefined) return;
    if (!files[item.file]) {
      const path = isAbsolute(item.file) ? item.file : join(dirname(lab.file), item.file);
      let text: string;
      try {
        text = read(path);
      } catch (e) {
        throw src.error([key, i, 'file'], `cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
      }
      const objects = parsePlacedObjects(text, path);
      files[item.file] = objects.map((p) => p.object);
      add(...objects);
    } else if (!phase.some((p) => files[item.file!].includes(p.object))) {
      // The same file applied again in a rebuilt cluster meets that cluster's ranges.
      phase.push(...files[item.file].map((object) => ({ object, source: src.at([key, i, 'file']) })));
    }
  });
  endPhase();
  return { placed, files, warnings };
}
