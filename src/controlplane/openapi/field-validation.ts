// Server-side field validation (the fieldValidation query parameter, GA in
// 1.27): a request body is walked against the kind's schema and every field the
// schema does not know is named as upstream's strict decoder names it —
// `unknown field "spec.ports[0].bogus"`, in document order. Strict refuses the
// request with the Status upstream's create/update (400) and patch (422)
// handlers write; Warn (upstream's default when the parameter is absent)
// answers with one Warning header per field; Ignore says nothing.
// Differences from upstream: unknown fields are not pruned from what is stored
// (the store keeps the object as sent), a JSON patch is not checked (its paths
// would have to be applied first), and duplicate fields are not detected
// (JSON.parse keeps the last one silently).
import { ApiError, badRequest } from '../status.ts';
import { SCHEMAS, schemaIdOf, type Gvk, type Schema } from './spec.ts';

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

/** The directive of a request: absent means Warn, as upstream defaults it since 1.27. */
export function fieldValidationOf(value: string | null): FieldValidation {
  if (value === null || value === '') return 'Warn';
  if (value === 'Ignore' || value === 'Warn' || value === 'Strict') return value;
  // In the form of apimachinery's field.NotSupported.
  throw badRequest(`fieldValidation: Unsupported value: ${JSON.stringify(value)}: supported values: "Ignore", "Strict", "Warn"`);
}

function resolve(s: Schema | undefined): Schema | undefined {
  let cur = s;
  for (let i = 0; cur && i < 8; i++) {
    const ref: unknown = cur.$ref ?? cur.allOf?.[0]?.$ref;
    if (typeof ref !== 'string') return cur;
    cur = SCHEMAS[ref.replace('#/components/schemas/', '')];
  }
  return cur;
}

/**
 * The paths of the fields `value` holds that `schema` does not declare. In a
 * patch (`patch: true`) a null deletes a field and the strategic merge patch
 * directives ($patch, $setElementOrder/…, $retainKeys, $deleteFromPrimitiveList/…)
 * are not fields.
 */
export function unknownFields(gvk: Gvk, value: unknown, opts: { patch?: boolean } = {}): string[] {
  const id = schemaIdOf(gvk);
  if (!id) return [];
  const out: string[] = [];
  const walk = (s: Schema | undefined, v: unknown, path: string): void => {
    const schema = resolve(s);
    if (!schema || v === null || v === undefined) return;
    if (Array.isArray(v)) {
      if (schema.type === 'array') v.forEach((x, i) => walk(schema.items, x, `${path}[${i}]`));
      return;
    }
    if (typeof v !== 'object' || schema.type !== 'object') return;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (opts.patch && (k.startsWith('$') || x === null)) continue;
      const child = path ? `${path}.${k}` : k;
      if (schema.properties) {
        if (k in schema.properties) walk(schema.properties[k], x, child);
        else out.push(child);
      } else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') walk(schema.additionalProperties, x, child);
    }
  };
  walk(SCHEMAS[id], value, '');
  return out;
}

/** Upstream's strict decoding error: every unknown field, comma-separated. */
export function strictDecodingError(fields: string[]): string {
  return `strict decoding error: ${fields.map((f) => `unknown field ${JSON.stringify(f)}`).join(', ')}`;
}

/** Go's %+v of a decoded JSON value (what upstream prints a strategic merge patch as): map[a:1 b:[x y]], keys sorted. */
export function goPrint(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goPrint).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `map[${Object.keys(o).sort().map((k) => `${k}:${goPrint(o[k])}`).join(' ')}]`;
  }
  return String(v);
}

/**
 * Checks a create or update body under the request's directive: throws the
 * BadRequest upstream's create/update handlers answer in Strict mode, or returns
 * the Warning header values (RFC 7234 form, as apiserver's warning recorder
 * writes them) for Warn.
 */
export function checkFields(gvk: Gvk, body: unknown, directive: FieldValidation): string[] {
  if (directive === 'Ignore') return [];
  const fields = unknownFields(gvk, body);
  if (!fields.length) return [];
  // create.go/update.go's transformDecodeError: "<Kind> in version "v1" cannot be handled as a <Kind>: …".
  if (directive === 'Strict') throw badRequest(`${gvk.kind} in version ${JSON.stringify(gvk.version)} cannot be handled as a ${gvk.kind}: ${strictDecodingError(fields)}`);
  return warningsOf(fields);
}

/**
 * The same for a merge or strategic merge patch. Strict fails as upstream's
 * patch handler does: a 422 NewInvalid with no kind or name, one `patch` cause
 * whose value is the patch as Go prints the decoded map (strategic) or the
 * patched object's JSON (merge, from `patched`).
 */
export function checkPatchFields(gvk: Gvk, patch: unknown, directive: FieldValidation, strategic: boolean, patched: () => unknown): string[] {
  if (directive === 'Ignore') return [];
  const fields = unknownFields(gvk, patch, { patch: true });
  if (!fields.length) return [];
  if (directive !== 'Strict') return warningsOf(fields);
  const body = `Invalid value: ${JSON.stringify(strategic ? goPrint(patch) : JSON.stringify(patched()))}: ${strictDecodingError(fields)}`;
  throw new ApiError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: ` "" is invalid: patch: ${body}`,
    reason: 'Invalid',
    details: { causes: [{ reason: 'FieldValueInvalid', message: body, field: 'patch' }] },
    code: 422,
  });
}

const warningsOf = (fields: string[]) => fields.map((f) => `299 - ${JSON.stringify(`unknown field ${JSON.stringify(f)}`)}`);
