// Authentication on the TLS listener, as kube-apiserver's union of the x509
// and static-token authenticators: a client certificate that chains to the
// lab CA (--client-ca-file) makes the user its CN and the groups its O
// values; a bearer token from --token-auth-file makes that file's user. The
// first that succeeds wins; neither means anonymous, which this apiserver
// refuses (as with --anonymous-auth=false) with upstream's 401 Status.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ApiError } from '../status.ts';
import type { TokenTable } from './token-file.ts';
import { withAuthenticatedGroup, type UserInfo } from './user.ts';

/** Upstream's 401 body (responsewriters.Unauthorized → apierrors.NewUnauthorized). */
export const unauthorized = () =>
  new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The user a verified client certificate names, or undefined. */
export function certificateUser(socket: TLSSocket): UserInfo | undefined {
  // rejectUnauthorized is off (a token may still authenticate), so the chain check is read here.
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  const cn = asList(cert?.subject?.CN)[0];
  if (!cn) return undefined;
  return { username: cn, groups: asList(cert.subject.O) };
}

/** The user a bearer token names, or undefined. */
export function tokenUser(header: string | undefined, tokens: TokenTable | undefined): UserInfo | undefined {
  const m = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return m ? tokens?.get(m[1]) : undefined;
}

/** The request's user on the TLS listener; throws the 401 Status when nothing authenticates it. */
export function authenticate(req: IncomingMessage, tokens: TokenTable | undefined): UserInfo {
  const u = certificateUser(req.socket as TLSSocket) ?? tokenUser(req.headers.authorization, tokens);
  if (!u) throw unauthorized();
  return withAuthenticatedGroup(u);
}
