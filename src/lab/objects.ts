// Reads Kubernetes objects from a file for `svclab apply -f` and
// `svclab proxy render -f`: several YAML documents, or a v1 List, each object
// checked against the supported kinds with the same located errors as a lab.
import { readFile } from 'node:fs/promises';
import type { KubeObject } from '../k8s/objects.ts';
import { LabFileError } from '../util/errors.ts';
import { parseWith } from './issues.ts';
import { KubeObjectSchema } from './k8s-schema.ts';
import { parseYamlDocuments, type YamlSource } from './source.ts';

/** An object and where it was written (a lab manifest, an apply step, a file). */
export interface PlacedObject {
  object: KubeObject;
  /** Rooted at the object, so error paths read "spec.ports[0].port". */
  source: YamlSource;
}

const isMapping = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Parses and checks every object, keeping where each came from. */
export function parsePlacedObjects(text: string, file: string): PlacedObject[] {
  const placed: PlacedObject[] = [];
  for (const doc of parseYamlDocuments(text, file)) {
    const data = doc.data();
    if (isMapping(data) && data.kind === 'List' && data.apiVersion === 'v1') {
      if (!Array.isArray(data.items)) throw doc.error(['items'], 'a v1 List needs items: a list of objects');
      data.items.forEach((item, i) => placed.push(place(item, doc.at(['items', i]))));
    } else {
      placed.push(place(data, doc));
    }
  }
  if (placed.length === 0) throw new LabFileError('no Kubernetes objects in this file', file);
  return placed;
}

function place(data: unknown, source: YamlSource): PlacedObject {
  if (!isMapping(data)) throw source.error([], 'expected a Kubernetes object (a mapping with apiVersion, kind, metadata)');
  return { object: parseWith(KubeObjectSchema, data, source), source };
}

export function parseObjects(text: string, file: string): KubeObject[] {
  return parsePlacedObjects(text, file).map((p) => p.object);
}

export async function loadObjects(file: string): Promise<KubeObject[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new LabFileError(`cannot read the file: ${(e as Error).message}`, file);
  }
  return parseObjects(text, file);
}
