// Label selector matching (apimachinery's LabelSelectorAsSelector + Matches),
// used to check a Deployment's selector against its template labels.

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export function isEmptySelector(sel: LabelSelector | undefined): boolean {
  return !sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0);
}

export function selectorMatches(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const have = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (have[k] !== v) return false;
  for (const req of sel.matchExpressions ?? []) {
    const present = Object.hasOwn(have, req.key);
    const inValues = present && (req.values ?? []).includes(have[req.key]);
    const ok =
      req.operator === 'In' ? inValues
      : req.operator === 'NotIn' ? !inValues
      : req.operator === 'Exists' ? present
      : req.operator === 'DoesNotExist' ? !present
      : false;
    if (!ok) return false;
  }
  return true;
}

/** Parses "app=client,tier=web" (equality terms only); undefined if `text` is a plain name. */
export function parseEqualitySelector(text: string): Record<string, string> | undefined {
  if (!text.includes('=')) return undefined;
  const out: Record<string, string> = {};
  for (const term of text.split(',')) {
    const [k, v] = term.split(/==?/, 2);
    out[k.trim()] = (v ?? '').trim();
  }
  return out;
}
