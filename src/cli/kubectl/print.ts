// How kubectl prints an object it created, changed or would create: the name
// printer ("deployment.apps/web created"), -o name, and -o yaml / -o json as
// kubectl's printers lay them out (YAML via JSON, so keys sorted and lists not
// indented; JSON with four-space indent).
import { kindGroup } from '../../k8s/objects.ts';
import { stringify } from 'yaml';
import type { KubeObject } from '../../k8s/objects.ts';
import { RESOURCES, type ResourceKind } from '../../k8s/objects.ts';

/** "services", "deployments.apps": plural resource dot group (kubectl's info.ObjectName() prefix). */
export function resourceGroup(kind: ResourceKind): string {
  const r = RESOURCES[kind];
  const group = r.apiVersion.includes('/') ? r.apiVersion.split('/')[0] : '';
  return `${r.plural}${group ? `.${group}` : ''}`;
}

/** The name printer: "service/web". */
export { kindGroup };

export function objectName(obj: KubeObject): string {
  return `${kindGroup(obj.kind ?? '')}/${obj.metadata?.name ?? ''}`;
}

/** YAML as kubectl prints it: keys sorted at every level, sequences flush with their key. */
export function toKubectlYaml(obj: unknown): string {
  return stringify(obj, { sortMapEntries: true, indentSeq: false, lineWidth: 0 });
}

export type OutputFormat = 'yaml' | 'json' | 'name' | undefined;

export function parseOutput(o: string | undefined): OutputFormat {
  if (o === undefined || o === '') return undefined;
  if (o === 'yaml' || o === 'json' || o === 'name') return o;
  throw new Error(`unable to match a printer suitable for the output format "${o}", allowed formats are: json,name,yaml`);
}

/**
 * What a verb prints for one object: "service/web created" (plus " (dry run)"
 * or " (server dry run)"), just the name for -o name, the object for -o yaml|json.
 */
export function printResult(obj: KubeObject, operation: string, output: OutputFormat, suffix = ''): string {
  if (output === 'yaml') return toKubectlYaml(obj);
  if (output === 'json') return `${JSON.stringify(obj, null, 4)}\n`;
  if (output === 'name') return `${objectName(obj)}\n`;
  return `${objectName(obj)} ${operation}${suffix}\n`;
}

/** kubectl delete's line: `service "web" deleted from default namespace` (kubectl ≥ 1.32 names the namespace). */
export function deletedLine(kind: string, name: string, namespace: string | undefined, suffix = ''): string {
  return `${kindGroup(kind)} "${name}" deleted${namespace ? ` from ${namespace} namespace` : ''}${suffix}\n`;
}
