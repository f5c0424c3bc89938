// Kubernetes Status errors with upstream's words (apimachinery
// pkg/api/errors and pkg/util/validation/field), so what a learner reads from
// the lab matches what a real apiserver and kubectl print.
import type { Status } from 'kubernetes-types/meta/v1.js';
import { qualifiedKind, qualifiedResource, type ApiResource } from './resources.ts';

export type { Status };

/** A failed API call: thrown by the server side, re-created by the client from the Status it receives. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(readonly status: Status) {
    super(kubectlErrorText(status));
  }
  get code(): number {
    return this.status.code ?? 500;
  }
  get reason(): string {
    return this.status.reason ?? '';
  }
}

function fail(code: number, reason: string, message: string, details?: Status['details']): ApiError {
  return new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code });
}

function detailsOf(r: ApiResource, name: string): Status['details'] {
  return { name, ...(r.group ? { group: r.group } : {}), kind: r.plural };
}

export const notFound = (r: ApiResource, name: string) =>
  fail(404, 'NotFound', `${qualifiedResource(r)} "${name}" not found`, detailsOf(r, name));

export const alreadyExists = (r: ApiResource, name: string) =>
  fail(409, 'AlreadyExists', `${qualifiedResource(r)} "${name}" already exists`, detailsOf(r, name));

/** Optimistic-concurrency failure (upstream's OptimisticLockErrorMsg). */
export const conflict = (r: ApiResource, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again') =>
  fail(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(r)} "${name}": ${why}`, detailsOf(r, name));

export const badRequest = (message: string) => fail(400, 'BadRequest', message);
export const methodNotAllowed = () => fail(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
export const unsupportedMediaType = (type: string) => fail(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/merge-patch+json, application/strategic-merge-patch+json, application/json-patch+json (got ${type})`);
export const forbidden = (r: ApiResource, name: string, why: string) =>
  fail(403, 'Forbidden', `${qualifiedResource(r)} "${name}" is forbidden: ${why}`, detailsOf(r, name));
export const internalError = (why: string) => fail(500, 'InternalError', `Internal error occurred: ${why}`);
/** What a watch from a compacted resourceVersion gets (in-stream, as the watch cache sends it). */
export const expired = (requested: number, oldest: number) => fail(410, 'Expired', `too old resource version: ${requested} (${oldest})`);
export const notFoundPath = () => fail(404, 'NotFound', 'the server could not find the requested resource');

// ---- field errors (k8s.io/apimachinery/pkg/util/validation/field) ----

export type FieldErrorType =
  | 'FieldValueInvalid'
  | 'FieldValueRequired'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueNotSupported'
  | 'FieldValueTooLong';

export interface FieldError {
  type: FieldErrorType;
  field: string;
  /** Upstream's ErrorBody(): "Invalid value: 30007: provided port is already allocated". */
  body: string;
}

/**
 * A value rendered as Go's %#v does in field errors: strings quoted, numbers
 * bare, string slices as []string{"a", "b"} and a nil slice as []string(nil).
 */
export type GoValue = string | number | boolean | string[] | null | undefined | { goText: string };

export function goValue(v: GoValue): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.length === 0 ? '[]string{}' : `[]string{${v.map((s) => JSON.stringify(s)).join(', ')}}`;
  return v.goText;
}

/** A nil []string, which Go prints as []string(nil). */
export const nilStrings: GoValue = { goText: '[]string(nil)' };

export const field = {
  invalid: (path: string, value: GoValue, detail: string): FieldError => ({ type: 'FieldValueInvalid', field: path, body: `Invalid value: ${goValue(value)}: ${detail}` }),
  required: (path: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field: path, body: detail ? `Required value: ${detail}` : 'Required value' }),
  duplicate: (path: string, value: GoValue): FieldError => ({ type: 'FieldValueDuplicate', field: path, body: `Duplicate value: ${goValue(value)}` }),
  forbidden: (path: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field: path, body: `Forbidden: ${detail}` }),
  notSupported: (path: string, value: GoValue, supported: string[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field: path,
    body: `Unsupported value: ${goValue(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
  }),
};

export function fieldErrorText(e: FieldError): string {
  return `${e.field}: ${e.body}`;
}

/** Upstream's NewInvalid: 422 with one cause per field error; several errors print as "[a, b]". */
export function invalid(r: ApiResource, name: string, errs: FieldError[]): ApiError {
  const texts = errs.map(fieldErrorText);
  const agg = texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`;
  return fail(422, 'Invalid', `${qualifiedKind(r)} "${name}" is invalid: ${agg}`, {
    name,
    ...(r.group ? { group: r.group } : {}),
    kind: r.kind,
    causes: errs.map((e) => ({ reason: e.type, message: e.body, field: e.field })),
  });
}

/**
 * The line kubectl prints for a failed call (kubectl's StandardErrorMessage):
 * `The Service "x" is invalid: spec.ports[0].nodePort: Invalid value: ...` for
 * Invalid, `Error from server (NotFound): pods "x" not found` otherwise.
 */
export function kubectlErrorText(s: Status): string {
  if (s.reason === 'Invalid' && s.details?.kind) {
    const kind = s.details.group ? `${s.details.kind}.${s.details.group}` : s.details.kind;
    const causes = (s.details.causes ?? []).map((c) => (c.field ? `${c.field}: ${c.message}` : c.message ?? ''));
    const head = `The ${kind} "${s.details.name ?? ''}" is invalid`;
    if (!causes.length) return head;
    return `${head}: ${causes.length === 1 ? causes[0] : `[${causes.join(', ')}]`}`;
  }
  return `Error from server${s.reason ? ` (${s.reason})` : ''}: ${s.message ?? 'unknown error'}`;
}
