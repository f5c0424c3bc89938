// Authorization: who may do what. Not RBAC yet: a built-in policy of the
// ClusterRoleBindings a kubeadm cluster starts with that matter here —
//   - system:masters may do everything (cluster-admin, and upstream's
//     authorizer short-circuits that group before RBAC);
//   - every authenticated user may read the discovery, version and health
//     paths (system:discovery, system:public-info-viewer) and create
//     SelfSubjectReviews and SelfSubjectAccessReviews
//     (system:basic-user), so `kubectl auth whoami` and `auth can-i` answer;
//   - anything else is refused with upstream's 403 Status text.
// Roles and bindings as objects (and ServiceAccounts) are later work of issue 12.
import type { Status } from '../status.ts';
import { ApiError } from '../status.ts';
import type { RequestAttributes } from './attributes.ts';
import { SYSTEM_MASTERS, type UserInfo } from './user.ts';

export interface Decision {
  allowed: boolean;
  /** Why (for a SubjectAccessReview's status.reason); empty when no rule matched. */
  reason: string;
}

const PUBLIC_PATHS = [/^\/(api|apis)(\/.*)?$/, /^\/version\/?$/, /^\/(healthz|livez|readyz)(\/.*)?$/, /^\/openapi\/.*$/];
const SELF_REVIEWS = new Set(['authentication.k8s.io/selfsubjectreviews', 'authorization.k8s.io/selfsubjectaccessreviews']);

export function authorize(user: UserInfo, a: RequestAttributes): Decision {
  if (user.groups.includes(SYSTEM_MASTERS)) return { allowed: true, reason: '' };
  if (!a.resourceRequest) {
    if (a.verb === 'get' && PUBLIC_PATHS.some((re) => re.test(a.path))) {
      return { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated"' };
    }
    return { allowed: false, reason: '' };
  }
  if (a.verb === 'create' && !a.subresource && SELF_REVIEWS.has(`${a.group}/${a.resource}`)) {
    return { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole "system:basic-user" to Group "system:authenticated"' };
  }
  return { allowed: false, reason: '' };
}

/** Upstream's forbiddenMessage (apiserver responsewriters/errors.go). */
export function forbiddenMessage(user: UserInfo, a: RequestAttributes): string {
  if (!a.resourceRequest) return `User ${JSON.stringify(user.username)} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
  return `User ${JSON.stringify(user.username)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.group)} ${where}`;
}

/** The 403 Status upstream writes: apierrors.NewForbidden(group resource, name, forbiddenMessage). */
export function forbiddenStatus(user: UserInfo, a: RequestAttributes, reason = ''): Status {
  const why = forbiddenMessage(user, a) + (reason ? `: ${JSON.stringify(reason)}` : '');
  const gr = a.resourceRequest ? (a.group ? `${a.resource}.${a.group}` : a.resource) : '';
  const name = a.resourceRequest ? a.name : '';
  const message = gr ? (name ? `${gr} ${JSON.stringify(name)} is forbidden: ${why}` : `${gr} is forbidden: ${why}`) : `forbidden: ${why}`;
  return {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Forbidden',
    details: { ...(name ? { name } : {}), ...(a.resourceRequest && a.group ? { group: a.group } : {}), ...(a.resourceRequest ? { kind: a.resource } : {}) },
    code: 403,
  };
}

/** Throws the 403 when the user may not do what the request asks. */
export function requireAllowed(user: UserInfo, a: RequestAttributes): void {
  const d = authorize(user, a);
  if (!d.allowed) throw new ApiError(forbiddenStatus(user, a, d.reason));
}
