// The two review APIs a learner's kubectl asks about itself:
//   POST /apis/authentication.k8s.io/v1/selfsubjectreviews       (`kubectl auth whoami`)
//   POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews  (`kubectl auth can-i`)
// Both are create-only and never stored; the answer is the request's own user
// and the same authorize() that guards every other request.
import { parseTextBody } from '../request-body.ts';
import { badRequest } from '../status.ts';
import { decodeEnvelope, decodeFields, PROTOBUF_CONTENT_TYPE, str as pbStr, sub, type Fields } from './protobuf.ts';
import type { RequestAttributes } from './attributes.ts';
import { authorize } from './authorize.ts';
import type { UserInfo } from './user.ts';

export const SELF_SUBJECT_REVIEWS = '/apis/authentication.k8s.io/v1/selfsubjectreviews';
export const SELF_SUBJECT_ACCESS_REVIEWS = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';

/** What discovery lists for them (APIResourceList entries by group/version). */
export const REVIEW_API_GROUPS = [
  { group: 'authentication.k8s.io', version: 'v1', resources: [{ name: 'selfsubjectreviews', singularName: 'selfsubjectreview', namespaced: false, kind: 'SelfSubjectReview', verbs: ['create'] }] },
  { group: 'authorization.k8s.io', version: 'v1', resources: [{ name: 'selfsubjectaccessreviews', singularName: 'selfsubjectaccessreview', namespaced: false, kind: 'SelfSubjectAccessReview', verbs: ['create'] }] },
] as const;

type Obj = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' ? v : '');

export function selfSubjectReview(user: UserInfo, now = new Date()): Obj {
  return {
    kind: 'SelfSubjectReview',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { creationTimestamp: now.toISOString().replace(/\.\d+Z$/, 'Z') },
    status: { userInfo: { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups } },
  };
}

/** Answers a SelfSubjectAccessReview for `user`; the body's spec says what to check. */
export function selfSubjectAccessReview(user: UserInfo, body: unknown): Obj {
  const spec = ((body as Obj | undefined)?.spec ?? {}) as Obj;
  const ra = spec.resourceAttributes as Obj | undefined;
  const nra = spec.nonResourceAttributes as Obj | undefined;
  // Upstream's validation message for a spec with neither or both.
  if (Boolean(ra) === Boolean(nra)) throw badRequest('spec.resourceAttributes: Invalid value: exactly one of nonResourceAttributes or resourceAttributes must be specified');
  const attrs: RequestAttributes = ra
    ? {
      resourceRequest: true, verb: str(ra.verb), group: str(ra.group), version: str(ra.version), resource: str(ra.resource),
      subresource: str(ra.subresource), namespace: str(ra.namespace), name: str(ra.name),
    }
    : { resourceRequest: false, verb: str(nra!.verb), path: str(nra!.path) };
  const d = authorize(user, attrs);
  return {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec,
    status: { allowed: d.allowed, ...(d.reason ? { reason: d.reason } : {}) },
  };
}

const attrsFrom = (f: Fields | undefined, names: string[]) =>
  f ? Object.fromEntries(names.map((n, i) => [n, pbStr(f, i + 1)]).filter(([, v]) => v)) : undefined;

/**
 * A review body as JSON, YAML or kubectl's protobuf. Of a protobuf
 * SelfSubjectAccessReview only spec is read: field 2, whose field 1 is
 * ResourceAttributes {namespace, verb, group, version, resource, subresource,
 * name} and field 2 NonResourceAttributes {path, verb}.
 */
export function decodeReviewBody(body: Buffer, contentType: string | undefined): unknown {
  if ((contentType ?? '').startsWith(PROTOBUF_CONTENT_TYPE)) {
    const { kind, raw } = decodeEnvelope(body);
    const spec = sub(decodeFields(raw), 2);
    if (kind !== 'SelfSubjectAccessReview' || !spec) return { kind, spec: {} };
    const resourceAttributes = attrsFrom(sub(spec, 1), ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name']);
    const nonResourceAttributes = attrsFrom(sub(spec, 2), ['path', 'verb']);
    return { kind, spec: { ...(resourceAttributes ? { resourceAttributes } : {}), ...(nonResourceAttributes ? { nonResourceAttributes } : {}) } };
  }
  return parseTextBody(body, contentType);
}
