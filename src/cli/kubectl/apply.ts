// `kubectl apply` (client-side): the object is created with its configuration
// recorded in the last-applied-configuration annotation; later applies send
// a three-way strategic merge patch — fields dropped since the last apply are
// deleted, fields that differ from the live object are set, everything the
// server or others filled in stays. An empty patch is "unchanged", exactly
// as kubectl decides it (k8s.io/kubectl/pkg/cmd/apply/patcher.go).
import type { KubeObject } from '../../k8s/objects.ts';
import { RESOURCES, type ResourceKind } from '../../k8s/objects.ts';
import { resolveKind, resourcePath } from '../../lifecycle/lab-api.ts';
import { KubectlError } from './generators.ts';
import { resourceGroup } from './print.ts';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON with object keys sorted, as Go's encoding/json writes an unstructured map. */
export function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (isObject(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${sortedJson(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

function deepEqual(a: unknown, b: unknown): boolean {
  return sortedJson(a ?? null) === sortedJson(b ?? null);
}

// patchMergeKey tags of k8s.io/api for the lists a lab object carries; any
// other list is atomic (replaced whole), as strategic merge treats it.
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
};

function mergeKeyFor(field: string, items: Json[]): string | undefined {
  if (field === 'ports') return items.some((i) => isObject(i) && 'containerPort' in i) ? 'containerPort' : 'port';
  return MERGE_KEYS[field];
}

/**
 * The three-way strategic merge patch from `original` (the last applied
 * configuration) to `modified` (the file now) against `current` (live).
 * Returns {} when applying would change nothing.
 */
export function threeWayPatch(original: Json | undefined, modified: JsonObject, current: Json | undefined): JsonObject {
  const patch: JsonObject = {};
  const cur = isObject(current) ? current : {};
  const orig = isObject(original) ? original : {};
  for (const k of Object.keys(orig)) {
    if (!(k in modified) && k in cur) patch[k] = null;
  }
  for (const [k, m] of Object.entries(modified)) {
    const c = cur[k];
    if (isObject(m) && isObject(c)) {
      const sub = threeWayPatch(orig[k], m, c);
      if (Object.keys(sub).length) patch[k] = sub;
    } else if (Array.isArray(m) && Array.isArray(c) && m.every(isObject) && c.every(isObject) && mergeKeyFor(k, m)) {
      const list = listPatch(mergeKeyFor(k, m)!, Array.isArray(orig[k]) ? (orig[k] as Json[]) : [], m as JsonObject[], c as JsonObject[]);
      if (list.length) patch[k] = list;
    } else if (!deepEqual(m, c)) {
      patch[k] = structuredClone(m);
    }
  }
  return patch;
}

// A merge-keyed list: changed items as partial patches, new items whole,
// items dropped since the last apply as {$patch: delete}.
function listPatch(key: string, original: Json[], modified: JsonObject[], current: JsonObject[]): JsonObject[] {
  const out: JsonObject[] = [];
  const find = (list: Json[], v: Json) => list.find((i) => isObject(i) && deepEqual(i[key], v)) as JsonObject | undefined;
  for (const m of modified) {
    const c = find(current, m[key]);
    if (!c) {
      out.push(structuredClone(m));
      continue;
    }
    const sub = threeWayPatch(find(original, m[key]), m, c);
    if (Object.keys(sub).length) out.push({ [key]: m[key], ...sub });
  }
  for (const o of original) {
    if (!isObject(o) || find(modified, o[key]) || !find(current, o[key])) continue;
    out.push({ [key]: o[key], $patch: 'delete' });
  }
  return out;
}

/** The configuration kubectl records: the object as applied, minus the annotation itself, keys sorted. */
export function lastAppliedConfiguration(obj: KubeObject): string {
  const copy = structuredClone(obj) as KubeObject & { metadata: { annotations?: Record<string, string> } };
  copy.metadata ??= {};
  const annotations = { ...(copy.metadata.annotations ?? {}) };
  delete annotations[LAST_APPLIED];
  copy.metadata.annotations = annotations;
  return `${sortedJson(copy)}\n`;
}

/** The object with its last-applied annotation set, the form that is created or patched towards. */
export function withLastApplied(obj: KubeObject): KubeObject {
  const out = structuredClone(obj);
  out.metadata = { ...out.metadata, annotations: { ...(out.metadata?.annotations ?? {}), [LAST_APPLIED]: lastAppliedConfiguration(obj) } };
  return out;
}

export type ApplyOperation = 'created' | 'configured' | 'unchanged';

export interface ApplyPlan {
  operation: ApplyOperation;
  /** What to send: the object to create, or the patch for an existing one. */
  body?: JsonObject;
  /** kubectl's warning for live objects made without apply (printed on stderr). */
  warning?: string;
}

/**
 * Decides what `apply` does with `obj` given the live object (undefined if
 * none). `obj` must already carry its namespace. The manifest's status is not
 * applied: the apiserver ignores it on the main resource.
 */
export function planApply(obj: KubeObject, live: KubeObject | undefined): ApplyPlan {
  const { status: _ignored, ...config } = obj as KubeObject & { status?: unknown };
  const modified = withLastApplied(config as KubeObject) as unknown as JsonObject;
  if (!live) return { operation: 'created', body: modified };
  const kind = resolveKind(obj.kind ?? '');
  const recorded = live.metadata?.annotations?.[LAST_APPLIED];
  let original: Json | undefined;
  let warning: string | undefined;
  if (recorded === undefined) {
    warning = `Warning: resource ${resourceGroup(kind)}/${obj.metadata?.name} is missing the ${LAST_APPLIED} annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.`;
  } else {
    try {
      original = JSON.parse(recorded) as Json;
    } catch {
      original = undefined;
    }
  }
  const patch = threeWayPatch(original, modified, live as unknown as Json);
  if (!Object.keys(patch).length) return { operation: 'unchanged', warning };
  return { operation: 'configured', body: patch, warning };
}

/** The client calls apply needs (LabApi's ApiClient has them). */
export interface ApplyClient {
  getOrUndefined<T = unknown>(path: string): Promise<T | undefined>;
  create<T = unknown>(path: string, obj: unknown): Promise<T>;
  patch<T = unknown>(path: string, patch: unknown, type?: 'merge' | 'strategic' | 'json'): Promise<T>;
}

/**
 * The namespace an object goes to: its own, else the command's. kubectl
 * refuses a manifest namespace that contradicts an explicit -n.
 */
export function namespaceFor(obj: KubeObject, namespace: string, explicit: boolean): string | undefined {
  const kind = resolveKind(obj.kind ?? '') as ResourceKind;
  if (!RESOURCES[kind].namespaced) return undefined;
  const own = obj.metadata?.namespace;
  if (own && explicit && own !== namespace) {
    throw new KubectlError(`the namespace from the provided object "${own}" does not match the namespace "${namespace}". You must pass '--namespace=${own}' to perform this operation.`);
  }
  return own ?? namespace;
}

/** Reads the live object and decides (the object's namespace already set). */
export async function planFor(client: ApplyClient, obj: KubeObject): Promise<ApplyPlan> {
  const kind = resolveKind(obj.kind ?? '');
  const ns = RESOURCES[kind].namespaced ? obj.metadata?.namespace : undefined;
  return planApply(obj, await client.getOrUndefined<KubeObject>(resourcePath(kind, ns, obj.metadata?.name ?? '')));
}

/**
 * Carries out a plan. A `client` dry run sends nothing; a `server` dry run
 * sends the request with ?dryRun=All, so the apiserver validates but stores nothing.
 */
export async function executePlan(client: ApplyClient, obj: KubeObject, plan: ApplyPlan, dryRun: 'none' | 'client' | 'server' = 'none'): Promise<void> {
  if (dryRun === 'client' || plan.operation === 'unchanged') return;
  const kind = resolveKind(obj.kind ?? '');
  const ns = RESOURCES[kind].namespaced ? obj.metadata?.namespace : undefined;
  const q = dryRun === 'server' ? '?dryRun=All' : '';
  if (plan.operation === 'created') await client.create(`${resourcePath(kind, ns)}${q}`, plan.body);
  else await client.patch(`${resourcePath(kind, ns, obj.metadata?.name ?? '')}${q}`, plan.body, 'strategic');
}

/** planFor then executePlan. */
export async function applyObject(client: ApplyClient, obj: KubeObject, dryRun: 'none' | 'client' | 'server' = 'none'): Promise<ApplyPlan> {
  const plan = await planFor(client, obj);
  await executePlan(client, obj, plan, dryRun);
  return plan;
}
