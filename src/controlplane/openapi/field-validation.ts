// Server-side field validation (the fieldValidation query parameter, GA in
// 1.27): a request body is walked against the kind's schema and every field the
// schema does not know is named as upstream's strict decoder names it —
// `unknown field "spec.ports[0].bogus"`. Strict refuses the request with the
// texts apiserver's create/update handlers write; Warn (upstream's default when
// the parameter is absent) answers with one Warning header per field; Ignore
// says nothing. Unlike upstream, the unknown fields are not pruned from what is
// stored: the store keeps the object as sent.
import { badRequest } from '../status.ts';
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

/**
 * Checks a create/update/patch body under the request's directive: throws the
 * BadRequest upstream answers in Strict mode, or returns the Warning header
 * values (RFC 7234 form, as apiserver's warning recorder writes them) for Warn.
 */
export function checkFields(gvk: Gvk, body: unknown, directive: FieldValidation, opts: { patch?: boolean } = {}): string[] {
  if (directive === 'Ignore') return [];
  const fields = unknownFields(gvk, body, opts);
  if (!fields.length) return [];
  if (directive === 'Strict') {
    // create.go/update.go's transformDecodeError: "<Kind> in version "v1" cannot be handled as a <Kind>: …".
    const message = opts.patch ? strictDecodingError(fields) : `${gvk.kind} in version ${JSON.stringify(gvk.version)} cannot be handled as a ${gvk.kind}: ${strictDecodingError(fields)}`;
    throw badRequest(message);
  }
  return fields.map((f) => `299 - ${JSON.stringify(`unknown field ${JSON.stringify(f)}`)}`);
}
