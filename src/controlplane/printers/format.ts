// Cell formatting shared by the printers, as upstream formats it:
// apimachinery's duration.HumanDuration (the AGE column), translateTimestampSince,
// labels.FormatLabels, a LabelSelector's String(), layoutContainerCells and
// the "a,b,c + N more..." lists of Endpoints and EndpointSlices.
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { FIELD_DOCS } from './field-docs.ts';
import { column, type TableColumnDefinition } from './types.ts';

const SECOND = 1000, MINUTE = 60 * SECOND, HOUR = 60 * MINUTE;

/**
 * apimachinery's duration.HumanDuration: "45s" up to 2 minutes, "5m30s" under
 * 10 minutes, "42m" under 3 hours, "5h12m" under 8 hours, "30h" under 2 days,
 * "3d4h" under 8 days, "40d" under 2 years, "3y20d" under 8 years. Up to a
 * second in the future counts as "0s" (clock skew); further is "<invalid>".
 */
export function humanDuration(ms: number): string {
  // Go's int(d.Seconds()) truncates toward zero.
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes < 10) {
    const s = Math.trunc(ms / SECOND) % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(ms / HOUR);
  if (hours < 8) {
    const m = Math.trunc(ms / MINUTE) % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    const y = Math.trunc(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** Upstream's translateTimestampSince: "<unknown>" for an unset time. */
export function since(timestamp: string | undefined, now: Date): string {
  if (!timestamp) return '<unknown>';
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return '<unknown>';
  return humanDuration(now.getTime() - t);
}

/** labels.FormatLabels: "k=v,k2=v2" in key order, "<none>" when empty. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  return keys.length ? keys.map((k) => `${k}=${labels![k]}`).join(',') : '<none>';
}

/**
 * LabelSelectorAsSelector(sel).String(): requirements sorted by key, values
 * sorted, matchLabels as "k=v"; an empty selector prints "".
 */
export function formatSelector(sel: LabelSelector | undefined): string {
  const reqs: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) reqs.push({ key: k, text: `${k}=${v}` });
  for (const e of sel?.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    switch (e.operator) {
      case 'In': reqs.push({ key: e.key, text: `${e.key} in (${values})` }); break;
      case 'NotIn': reqs.push({ key: e.key, text: `${e.key} notin (${values})` }); break;
      case 'Exists': reqs.push({ key: e.key, text: e.key }); break;
      case 'DoesNotExist': reqs.push({ key: e.key, text: `!${e.key}` }); break;
      default: return '<invalid>';
    }
  }
  // A stable sort by key, as upstream's sort.Sort(ByKey) over the requirements.
  return reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((r) => r.text).join(',');
}

/** layoutContainerCells: names and images, each comma-joined. */
export function containerCells(containers: { name: string; image?: string }[] | undefined): [string, string] {
  const cs = containers ?? [];
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image ?? '').join(',')];
}

/**
 * The first `max` entries then " + N more..." (upstream's listWithMoreString);
 * an empty list is `empty` ("<unset>" for EndpointSlices, "<none>" for Endpoints).
 */
export function listWithMore(list: string[], total: number, max: number, empty: string): string {
  const shown = list.slice(0, max).join(',');
  if (total > max) return `${shown} + ${total - max} more...`;
  return shown || empty;
}

export const NAME_COLUMN: TableColumnDefinition = column('Name', 'string', FIELD_DOCS['ObjectMeta.name'], { format: 'name' });
export const AGE_COLUMN: TableColumnDefinition = column('Age', 'string', FIELD_DOCS['ObjectMeta.creationTimestamp']);
