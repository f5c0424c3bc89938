// Label and field selectors as the apiserver reads them from ?labelSelector= and
// ?fieldSelector= (apimachinery pkg/labels and pkg/fields): equality and
// set-based label terms, and the few fields each kind supports.
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { badRequest } from './status.ts';

interface Requirement {
  key: string;
  op: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
  values: string[];
}

export type Matcher = (labels: Record<string, string> | undefined) => boolean;

function matches(reqs: Requirement[], labels: Record<string, string> | undefined): boolean {
  const have = labels ?? {};
  return reqs.every((r) => {
    const present = Object.hasOwn(have, r.key);
    switch (r.op) {
      case 'In': return present && r.values.includes(have[r.key]);
      // Upstream: "!=" and notin also match objects without the label.
      case 'NotIn': return !present || !r.values.includes(have[r.key]);
      case 'Exists': return present;
      case 'DoesNotExist': return !present;
      case 'Gt': return present && Number(have[r.key]) > Number(r.values[0]);
      case 'Lt': return present && Number(have[r.key]) < Number(r.values[0]);
    }
  });
}

/**
 * Parses "app=web,tier!=db", "env in (a,b)", "!canary", "release" into a
 * matcher. An empty string matches everything. Throws a 400 Status on bad text.
 */
export function parseLabelSelector(text: string | undefined | null): Matcher {
  const s = (text ?? '').trim();
  if (!s) return () => true;
  const reqs: Requirement[] = [];
  // Split on commas that are not inside parentheses.
  const terms: string[] = [];
  let depth = 0, cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(cur);
      cur = '';
    } else cur += ch;
  }
  terms.push(cur);
  for (const raw of terms) {
    const t = raw.trim();
    let m: RegExpMatchArray | null;
    if ((m = t.match(/^([A-Za-z0-9_./-]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      const values = m[3].split(',').map((v) => v.trim()).filter((v) => v !== '');
      reqs.push({ key: m[1], op: m[2] === 'in' ? 'In' : 'NotIn', values });
    } else if ((m = t.match(/^([A-Za-z0-9_./-]+)\s*(==|=|!=|>|<)\s*([A-Za-z0-9_.-]*)$/))) {
      const op = m[2] === '!=' ? 'NotIn' : m[2] === '>' ? 'Gt' : m[2] === '<' ? 'Lt' : 'In';
      reqs.push({ key: m[1], op, values: [m[3]] });
    } else if ((m = t.match(/^!\s*([A-Za-z0-9_./-]+)$/))) {
      reqs.push({ key: m[1], op: 'DoesNotExist', values: [] });
    } else if ((m = t.match(/^([A-Za-z0-9_./-]+)$/))) {
      reqs.push({ key: m[1], op: 'Exists', values: [] });
    } else {
      throw badRequest(`unable to parse requirement: found '${t}', expected: identifier`);
    }
  }
  return (labels) => matches(reqs, labels);
}

/** A LabelSelector object (Deployment/Service-style) as a matcher; an empty selector matches everything. */
export function labelSelectorMatcher(sel: LabelSelector | undefined): Matcher {
  const reqs: Requirement[] = [
    ...Object.entries(sel?.matchLabels ?? {}).map(([key, v]) => ({ key, op: 'In' as const, values: [v] })),
    ...(sel?.matchExpressions ?? []).map((e) => ({ key: e.key, op: e.operator as Requirement['op'], values: e.values ?? [] })),
  ];
  return (labels) => matches(reqs, labels);
}

/** A Service-style selector map as a matcher. An empty map selects nothing, as for Services. */
export function mapSelectorMatcher(sel: Record<string, string> | undefined): Matcher {
  if (!sel || Object.keys(sel).length === 0) return () => false;
  return (labels) => Object.entries(sel).every(([k, v]) => labels?.[k] === v);
}

/** "app=web,tier=db" for a matchLabels map (the Scale subresource's status.selector). */
export function selectorString(sel: LabelSelector | undefined): string {
  const parts = Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel?.matchExpressions ?? []) {
    const op = e.operator;
    if (op === 'In' || op === 'NotIn') parts.push(`${e.key} ${op.toLowerCase()} (${(e.values ?? []).join(',')})`);
    else if (op === 'Exists') parts.push(e.key);
    else if (op === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

// Field selectors: every kind supports metadata.name and metadata.namespace;
// these kinds add the fields the kubelet, kube-proxy and kubectl ask for.
const EXTRA_FIELDS: Record<string, string[]> = {
  Pod: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  Node: ['spec.unschedulable'],
  Service: ['spec.clusterIP', 'spec.type'],
  Namespace: ['status.phase'],
  EndpointSlice: ['addressType'],
};

function fieldValue(obj: Record<string, unknown>, path: string): string {
  let cur: unknown = obj;
  for (const p of path.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[p] : undefined;
  if (cur === undefined || cur === null) return path === 'metadata.namespace' ? '' : path === 'spec.hostNetwork' ? 'false' : '';
  return String(cur);
}

export type ObjectMatcher = (obj: Record<string, unknown>) => boolean;

/** Parses "spec.nodeName=node-01,metadata.name!=x" for a kind; unknown fields are a 400 like upstream. */
export function parseFieldSelector(text: string | undefined | null, kind: string): ObjectMatcher {
  const s = (text ?? '').trim();
  if (!s) return () => true;
  const allowed = new Set(['metadata.name', 'metadata.namespace', ...(EXTRA_FIELDS[kind] ?? [])]);
  const terms = s.split(',').map((t) => {
    const m = t.trim().match(/^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid selector: '${s}'; can't understand '${t.trim()}'`);
    if (!allowed.has(m[1])) throw badRequest(`"${m[1]}" is not a known field selector: only "${[...allowed].join('", "')}"`);
    return { path: m[1], neg: m[2] === '!=', value: m[3] };
  });
  return (obj) => terms.every((t) => (fieldValue(obj, t.path) === t.value) !== t.neg);
}
