// PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and the
// common part of strategic merge patch (lists of named things merged by their
// key, as `kubectl patch` and `kubectl apply` expect for built-in kinds).
import { badRequest, unsupportedMediaType } from './status.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export type PatchType = 'merge' | 'json' | 'strategic';

export function patchTypeOf(contentType: string | undefined): PatchType {
  const t = (contentType ?? '').split(';')[0].trim();
  if (t === 'application/merge-patch+json') return 'merge';
  if (t === 'application/json-patch+json') return 'json';
  if (t === 'application/strategic-merge-patch+json') return 'strategic';
  throw unsupportedMediaType(t || '(none)');
}

export function applyPatch<T>(target: T, patch: unknown, type: PatchType): T {
  if (type === 'json') return jsonPatch(target as Json, patch) as T;
  if (!isObject(patch)) throw badRequest('a merge patch must be a JSON object');
  return (type === 'merge' ? mergePatch(target as Json, patch) : strategicMerge(target as Json, patch, '')) as T;
}

/** RFC 7386: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}

// Merge keys of the list fields a learner patches (from the `patchMergeKey`
// tags in k8s.io/api). Service ports merge by "port", container ports by "containerPort".
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  conditions: 'type',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  ownerReferences: 'uid',
};

function mergeKeyFor(field: string, items: Json[]): string | undefined {
  if (field === 'ports') {
    const first = items.find(isObject);
    return first && 'containerPort' in first ? 'containerPort' : 'port';
  }
  return MERGE_KEYS[field];
}

function strategicMerge(target: Json, patch: Json, field: string): Json {
  if (Array.isArray(patch)) {
    const key = mergeKeyFor(field, patch);
    if (!key || !Array.isArray(target) || !patch.every(isObject)) return structuredClone(patch.filter((p) => !(isObject(p) && p.$patch)));
    const out = target.map((t) => structuredClone(t));
    for (const p of patch as JsonObject[]) {
      const idx = out.findIndex((t) => isObject(t) && t[key] === p[key]);
      if (p.$patch === 'delete') {
        if (idx >= 0) out.splice(idx, 1);
        continue;
      }
      if (idx >= 0) out[idx] = strategicMerge(out[idx], p, '');
      else out.push(strip(p));
    }
    return out;
  }
  if (!isObject(patch)) return structuredClone(patch);
  if (patch.$patch === 'replace') return strip(patch);
  if (patch.$patch === 'delete') return null;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    // kubectl apply's bookkeeping directives; the list order and retained keys are not needed here.
    if (k.startsWith('$setElementOrder/') || k === '$retainKeys' || k === '$patch') continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const name = k.slice('$deleteFromPrimitiveList/'.length);
      const drop = new Set((Array.isArray(v) ? v : []).map((x) => JSON.stringify(x)));
      if (Array.isArray(out[name])) out[name] = (out[name] as Json[]).filter((x) => !drop.has(JSON.stringify(x)));
      continue;
    }
    if (v === null) delete out[k];
    else out[k] = strategicMerge(out[k] ?? null, v, k);
  }
  return out;
}

function strip(o: JsonObject): JsonObject {
  const { $patch: _ignored, ...rest } = o;
  return structuredClone(rest);
}

// ---- RFC 6902 ----

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`invalid JSON pointer "${path}"`);
  return path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, tokens: string[], path: string): { parent: Json; key: string } {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    cur = Array.isArray(cur) ? cur[Number(t)] : isObject(cur) ? cur[t] : undefined as unknown as Json;
    if (cur === undefined) throw badRequest(`the server rejected our request due to an error in our request: doc is missing path: "${path}"`);
  }
  return { parent: cur, key: tokens[tokens.length - 1] };
}

function getAt(doc: Json, path: string): Json {
  let cur: Json | undefined = doc;
  for (const t of pointer(path)) cur = Array.isArray(cur) ? cur[Number(t)] : isObject(cur) ? cur[t] : undefined;
  if (cur === undefined) throw badRequest(`the server rejected our request due to an error in our request: doc is missing path: "${path}"`);
  return cur;
}

export function jsonPatch(target: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw badRequest('a JSON patch must be an array of operations');
  let doc = structuredClone(target);
  for (const op of ops as JsonObject[]) {
    const path = String(op.path ?? '');
    const tokens = pointer(path);
    const set = (value: Json, insert: boolean) => {
      if (!tokens.length) {
        doc = structuredClone(value);
        return;
      }
      const { parent, key } = parentOf(doc, tokens, path);
      if (Array.isArray(parent)) {
        const i = key === '-' ? parent.length : Number(key);
        if (insert) parent.splice(i, 0, structuredClone(value));
        else parent[i] = structuredClone(value);
      } else if (isObject(parent)) parent[key] = structuredClone(value);
      else throw badRequest(`doc is missing path: "${path}"`);
    };
    const remove = (): Json => {
      const { parent, key } = parentOf(doc, tokens, path);
      const old = getAt(doc, path);
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else if (isObject(parent)) delete parent[key];
      return old;
    };
    switch (op.op) {
      case 'add': set(op.value as Json, true); break;
      case 'replace': getAt(doc, path); set(op.value as Json, false); break;
      case 'remove': remove(); break;
      case 'move': { const from = String(op.from); const v = getAt(doc, from); jsonPatchRemove(doc, from); set(v, true); break; }
      case 'copy': set(getAt(doc, String(op.from)), true); break;
      case 'test':
        if (JSON.stringify(getAt(doc, path)) !== JSON.stringify(op.value)) throw badRequest(`the server rejected our request due to an error in our request: testing value ${path} failed`);
        break;
      default: throw badRequest(`unexpected kind: ${String(op.op)}`);
    }
  }
  return doc;
}

function jsonPatchRemove(doc: Json, path: string): void {
  const tokens = pointer(path);
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(Number(key), 1);
  else if (isObject(parent)) delete parent[key];
}
