// Who made a request, as upstream's user.Info: name, uid, groups.
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
}

/** Upstream's well-known groups (k8s.io/apiserver/pkg/authentication/user). */
export const SYSTEM_MASTERS = 'system:masters';
export const ALL_AUTHENTICATED = 'system:authenticated';

/**
 * Who a request on a plain-HTTP listener is: the lab's own daemons and CLI,
 * which have no credentials yet. Upstream's insecure port (removed in 1.20)
 * treated its callers the same way, as this user.
 */
export const UNSECURED_USER: UserInfo = { username: 'system:unsecured', groups: [SYSTEM_MASTERS, ALL_AUTHENTICATED] };

/** Every authenticated user also belongs to system:authenticated (upstream's AuthenticatedGroupAdder). */
export function withAuthenticatedGroup(u: UserInfo): UserInfo {
  return u.groups.includes(ALL_AUTHENTICATED) ? u : { ...u, groups: [...u.groups, ALL_AUTHENTICATED] };
}
