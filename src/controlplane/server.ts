// The lab apiserver's HTTP face (node:http), on a TCP address inside node-01
// and on a unix socket the host's CLI can reach across namespaces. It speaks
// the Kubernetes REST API as kube-proxy, the kubelet and the CLI use it: list
// (XList + resourceVersion), get, create, update, merge/JSON/strategic patch,
// delete, status and scale subresources, label/field selectors, and watches
// streamed as newline-delimited JSON from a resourceVersion. A GET or watch
// whose Accept asks for a meta.k8s.io Table (kubectl get) is answered with
// upstream's columns and cells from ./printers. Bodies come as JSON, YAML or
// client-go's protobuf envelope (./protobuf); answers are always JSON, which
// client-go accepts: its Accept is "application/vnd.kubernetes.protobuf,application/json".
// /openapi/v3 and the fieldValidation directives come from ./openapi.
//
// With TLS configured, the TCP listener also takes TLS (the first byte of a
// connection tells a TLS handshake from plain HTTP), and a second unix socket
// serves only TLS, for the host's loopback forwarder. TLS requests are
// authenticated (client certificate of the lab CA, or a static bearer token)
// and authorized (auth/authorize.ts); plain-HTTP requests come from the lab's
// own daemons and CLI and act as upstream's old insecure port did.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Duplex } from 'node:stream';
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Registry } from './registry.ts';
import { patchTypeOf, applyPatch } from './patch.ts';
import { API_RESOURCES, apiVersionOf, KUBE_VERSION, parseResourcePath, type ApiResource, type ParsedPath } from './resources.ts';
import { parseFieldSelector, parseLabelSelector, selectorString } from './selectors.ts';
import { ApiError, badRequest, conflict, internalError, methodNotAllowed, notFoundPath, unsupportedMediaType, type Status } from './status.ts';
import { decodeProtobufObject, isProtobuf, ProtobufDecodeError } from './protobuf/decode.ts';
import type { KObj, StoreEvent } from './store.ts';
import type { Log } from './controllers/queue.ts';
import { serveOpenApi } from './openapi/routes.ts';
import { checkFields, checkPatchFields, fieldValidationOf } from './openapi/field-validation.ts';
import { negotiateTable, PRINTERS, tableOptions, toTable, type TableOptions, type TableTarget } from './printers/index.ts';
import { authenticate } from './auth/authenticate.ts';
import { parseTextBody, readBodyBytes } from './request-body.ts';
import { requestAttributes } from './auth/attributes.ts';
import { requireAllowed } from './auth/authorize.ts';
import { decodeReviewBody, REVIEW_API_GROUPS, SELF_SUBJECT_ACCESS_REVIEWS, SELF_SUBJECT_REVIEWS, selfSubjectAccessReview, selfSubjectReview } from './auth/reviews.ts';
import type { TokenTable } from './auth/token-file.ts';
import { UNSECURED_USER, type UserInfo } from './auth/user.ts';

export interface ServerOptions {
  registry: Registry;
  /** "ip:port" (port 0 picks a free one). */
  listen?: string;
  /** Unix socket path. */
  socket?: string;
  log: Log;
  /** What /api advertises as the server address. */
  advertise?: string;
  /** How often watches that allow bookmarks get one. */
  bookmarkIntervalMs?: number;
  /** PEM texts: the serving pair and the CA that signs client certificates (--client-ca-file). */
  tls?: { cert: string; key: string; clientCA: string };
  /** Unix socket serving only TLS (needs `tls`). */
  secureSocket?: string;
  /** Static bearer tokens (--token-auth-file). */
  tokens?: TokenTable;
}

export interface RunningServer {
  /** http://ip:port of the TCP listener, if any. */
  url?: string;
  port?: number;
  socket?: string;
  secureSocket?: string;
  close(): Promise<void>;
}


function sendJSON(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendStatus(res: ServerResponse, s: Status): void {
  sendJSON(res, s.code ?? 500, s);
}


/**
 * A request body as an object: JSON, YAML, or (client-go's default for
 * built-in kinds, so kubectl's generators) the protobuf envelope, decoded by
 * ./protobuf into the JSON kubectl would have sent. `kind` is the kind the
 * URL's resource holds, named in upstream's decode errors.
 */
function parseBody(body: Buffer, contentType: string | undefined, kind?: string): unknown {
  if (isProtobuf(contentType)) {
    if (!body.length) return undefined;
    // No message here for this body (the scale subresource's autoscaling/v1 Scale): a media type the lab cannot read.
    if (!kind) throw unsupportedMediaType(contentType ?? '');
    try {
      return decodeProtobufObject(body, kind);
    } catch (e) {
      if (e instanceof ProtobufDecodeError) throw badRequest(e.message);
      throw e;
    }
  }
  return parseTextBody(body, contentType);
}

const truthy = (v: string | null) => v === 'true' || v === '1';

// ---- discovery ----

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function resourceList(groupVersion: string): unknown {
  const review = REVIEW_API_GROUPS.find((g) => `${g.group}/${g.version}` === groupVersion);
  if (review) return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources: review.resources };
  const rs = API_RESOURCES.filter((r) => apiVersionOf(r) === groupVersion);
  if (!rs.length) return undefined;
  const resources = rs.flatMap((r) => [
    { name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: VERBS, ...(r.shortNames.length ? { shortNames: r.shortNames } : {}) },
    ...(r.hasStatus ? [{ name: `${r.plural}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] }] : []),
    ...(r.kind === 'Deployment' ? [{ name: 'deployments/scale', singularName: '', namespaced: true, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] }] : []),
  ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}

function groupList(): unknown {
  const groups = [...new Set(API_RESOURCES.filter((r) => r.group).map((r) => r.group))].map((g) => {
    const v = API_RESOURCES.find((r) => r.group === g)!.version;
    const gv = { groupVersion: `${g}/${v}`, version: v };
    return { name: g, versions: [gv], preferredVersion: gv };
  });
  for (const g of REVIEW_API_GROUPS) {
    const gv = { groupVersion: `${g.group}/${g.version}`, version: g.version };
    groups.push({ name: g.group, versions: [gv], preferredVersion: gv });
  }
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

// ---- the scale subresource ----

function scaleOf(d: KObj): unknown {
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: d.metadata.name, namespace: d.metadata.namespace, uid: d.metadata.uid, resourceVersion: d.metadata.resourceVersion, creationTimestamp: d.metadata.creationTimestamp },
    spec: { replicas: d.spec?.replicas ?? 0 },
    status: { replicas: d.status?.replicas ?? 0, selector: selectorString(d.spec?.selector) },
  };
}

/** A Duplex that yields `first`, then everything `socket` reads, and writes to `socket`. */
function replay(socket: Socket, first: Buffer): Duplex {
  const d = new Duplex({
    read: () => void socket.resume(),
    write: (chunk, enc, cb) => void socket.write(chunk, enc, cb),
    final: (cb) => void socket.end(cb),
    destroy: (err, cb) => {
      socket.destroy();
      cb(err);
    },
  });
  d.push(first);
  socket.on('data', (c: Buffer) => {
    if (!d.push(c)) socket.pause();
  });
  socket.on('end', () => d.push(null));
  socket.on('close', () => d.destroy());
  return d;
}

export class ApiHttpServer {
  private readonly registry: Registry;
  private readonly log: Log;
  private readonly servers: (Server | NetServer)[] = [];
  private readonly watches = new Set<() => void>();

  constructor(private readonly opts: ServerOptions) {
    this.registry = opts.registry;
    this.log = opts.log;
  }

  async start(): Promise<RunningServer> {
    const running: RunningServer = { close: () => this.close() };
    if (this.opts.listen) {
      const m = this.opts.listen.match(/^\[?([^\]]*?)\]?:(\d+)$/);
      if (!m) throw new Error(`--listen "${this.opts.listen}" is not ip:port`);
      const server = this.opts.tls ? this.sniffingServer() : this.newServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(Number(m[2]), m[1] || '0.0.0.0', () => resolve());
      });
      const addr = server.address();
      if (addr && typeof addr === 'object') {
        running.port = addr.port;
        const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
        running.url = `http://${host}:${addr.port}`;
      }
    }
    if (this.opts.socket) {
      const path = this.opts.socket;
      mkdirSync(dirname(path), { recursive: true });
      // A socket file left by a previous run would make listen() fail with EADDRINUSE.
      if (existsSync(path)) unlinkSync(path);
      const server = this.newServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => resolve());
      });
      chmodSync(path, 0o660);
      running.socket = path;
    }
    if (this.opts.secureSocket) {
      const path = this.opts.secureSocket;
      const server = this.newSecureServer();
      mkdirSync(dirname(path), { recursive: true });
      if (existsSync(path)) unlinkSync(path);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => resolve());
      });
      // TLS with authentication on every request, so the host's forwarder (another uid may run kubectl) may open it.
      chmodSync(path, 0o666);
      running.secureSocket = path;
    }
    return running;
  }

  private newSecureServer(): Server {
    const tls = this.opts.tls;
    if (!tls) throw new Error('a TLS listener needs the serving certificate, key and client CA');
    // requestCert without rejectUnauthorized: a client without a certificate may still bring a token;
    // authenticate() reads whether the chain checked out.
    const server = createHttpsServer({ cert: tls.cert, key: tls.key, ca: tls.clientCA, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      this.handle(req, res).catch((e) => this.fail(res, e, req));
    });
    server.keepAliveTimeout = 65_000;
    this.servers.push(server);
    return server;
  }

  /**
   * One TCP port for both: a TLS ClientHello starts with record type 22
   * (0x16), an HTTP request with a letter. The first chunk is put back and
   * the connection handed to the HTTPS or the plain HTTP server.
   */
  private sniffingServer(): NetServer {
    const plain = this.newServer();
    const secure = this.newSecureServer();
    const server = createNetServer((socket: Socket) => {
      socket.on('error', () => socket.destroy());
      socket.once('data', (chunk: Buffer) => {
        socket.pause();
        if (chunk[0] === 0x16) {
          // A TLSSocket over a net.Socket reads from its C++ handle and would never see a chunk
          // put back into the JS stream; over a JS Duplex (upstream's JSStreamSocket path) it does.
          secure.emit('connection', replay(socket, chunk));
        } else {
          socket.unshift(chunk);
          plain.emit('connection', socket);
          socket.resume();
        }
      });
    });
    this.servers.push(server);
    return server;
  }

  private newServer(): Server {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((e) => this.fail(res, e, req));
    });
    server.keepAliveTimeout = 65_000;
    this.servers.push(server);
    return server;
  }

  async close(): Promise<void> {
    for (const stop of [...this.watches]) stop();
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            if ('closeAllConnections' in s) s.closeAllConnections();
          }),
      ),
    );
    if (this.opts.socket && existsSync(this.opts.socket)) unlinkSync(this.opts.socket);
    if (this.opts.secureSocket && existsSync(this.opts.secureSocket)) unlinkSync(this.opts.secureSocket);
  }

  /** Who sent the request: TLS requests authenticate; plain-HTTP ones are the lab's own (UNSECURED_USER). */
  private user(req: IncomingMessage): UserInfo {
    return (req.socket as TLSSocket).encrypted ? authenticate(req, this.opts.tokens) : UNSECURED_USER;
  }

  /** fieldValidation on a write: Strict throws upstream's BadRequest, Warn sets the Warning headers. */
  private checkFields(res: ServerResponse, r: ApiResource, p: ParsedPath, q: URLSearchParams, body: unknown, patch?: { strategic: boolean; patched: () => unknown }): void {
    const gvk = p.subresource === 'scale' ? { group: 'autoscaling', version: 'v1', kind: 'Scale' } : { group: r.group, version: r.version, kind: r.kind };
    const directive = fieldValidationOf(q.get('fieldValidation'));
    const warnings = patch ? checkPatchFields(gvk, body, directive, patch.strategic, patch.patched) : checkFields(gvk, body, directive);
    if (warnings.length) res.setHeader('Warning', warnings);
  }

  private fail(res: ServerResponse, e: unknown, req: IncomingMessage): void {
    const err = e instanceof ApiError ? e : internalError((e as Error)?.message ?? String(e));
    if (!(e instanceof ApiError)) this.log(`apiserver: ${req.method} ${req.url}: ${(e as Error)?.stack ?? e}`);
    else if (req.method !== 'GET' && err.code !== 404 && err.code !== 409) this.log(`apiserver: ${req.method} ${req.url} rejected: ${err.status.message}`);
    if (res.headersSent) res.end();
    else sendStatus(res, err.status);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://apiserver');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const q = url.searchParams;
    // Authentication and authorization come first, as upstream's filter chain: a refused user learns nothing of what exists.
    const user = this.user(req);
    requireAllowed(user, requestAttributes(req.method ?? 'GET', path, q));
    if (req.method === 'POST' && path === SELF_SUBJECT_REVIEWS) return sendJSON(res, 201, selfSubjectReview(user));
    if (req.method === 'POST' && path === SELF_SUBJECT_ACCESS_REVIEWS) {
      return sendJSON(res, 201, selfSubjectAccessReview(user, decodeReviewBody(await readBodyBytes(req), req.headers['content-type'])));
    }
    if (['/healthz', '/livez', '/readyz'].includes(path) || /^\/(healthz|livez|readyz)\//.test(path)) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return;
    }
    if (path === '/version') {
      return sendJSON(res, 200, { ...KUBE_VERSION, gitCommit: '', gitTreeState: 'clean', buildDate: '', goVersion: `node${process.versions.node}`, compiler: 'svclab', platform: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}` });
    }
    if (path === '/api') {
      return sendJSON(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: this.opts.advertise ?? this.opts.listen ?? '' }] });
    }
    if (path === '/apis') return sendJSON(res, 200, groupList());
    if (path.startsWith('/openapi/')) {
      if (!serveOpenApi(req, res, path, q)) sendStatus(res, notFoundPath().status);
      return;
    }
    const gv = path.match(/^\/api\/(v1)$/)?.[1] ?? path.match(/^\/apis\/([^/]+\/[^/]+)$/)?.[1];
    if (gv) {
      const list = resourceList(gv);
      return list ? sendJSON(res, 200, list) : sendStatus(res, notFoundPath().status);
    }
    const p = parseResourcePath(path);
    if (!p) return sendStatus(res, notFoundPath().status);
    const r = p.resource;
    const ns = r.namespaced ? p.namespace : undefined;
    const dryRun = q.getAll('dryRun').includes('All');
    const method = req.method ?? 'GET';

    if (method === 'GET' && (p.watchPrefix || truthy(q.get('watch')))) return this.watch(req, res, p, q);
    if (p.subresource && !['status', 'scale'].includes(p.subresource)) return sendStatus(res, notFoundPath().status);
    if (p.subresource === 'scale' && r.kind !== 'Deployment') return sendStatus(res, notFoundPath().status);
    const sub = p.subresource === 'status' ? ({ subresource: 'status' } as const) : {};

    switch (method) {
      case 'GET':
        return sendJSON(res, 200, this.get(r, ns, p, q, req.headers.accept));
      case 'POST': {
        if (p.name) throw methodNotAllowed();
        const body = parseBody(await readBodyBytes(req), req.headers['content-type'], p.subresource === 'scale' ? undefined : r.kind) as KObj | undefined;
        if (!body || typeof body !== 'object') throw badRequest('the request body must be an object');
        if (body.kind && body.kind !== r.kind) throw badRequest(`the kind of the object (${body.kind}) does not match the resource (${r.kind})`);
        this.checkFields(res, r, p, q, body);
        return sendJSON(res, 201, this.registry.create(r.kind, ns ?? body.metadata?.namespace, body, { dryRun }));
      }
      case 'PUT': {
        if (!p.name) throw methodNotAllowed();
        const body = parseBody(await readBodyBytes(req), req.headers['content-type'], p.subresource === 'scale' ? undefined : r.kind) as KObj | undefined;
        if (!body || typeof body !== 'object') throw badRequest('the request body must be an object');
        this.checkFields(res, r, p, q, body);
        if (p.subresource === 'scale') return sendJSON(res, 200, this.putScale(r, ns, p.name, body, dryRun));
        return sendJSON(res, 200, this.registry.update(r.kind, ns, p.name, body, { ...sub, dryRun }));
      }
      case 'PATCH': {
        if (!p.name) throw methodNotAllowed();
        const type = patchTypeOf(req.headers['content-type']);
        const patch = parseBody(await readBodyBytes(req), 'application/json');
        // A JSON patch names paths, not fields: only merge and strategic patches are checked.
        if (type !== 'json') {
          const current = () => (p.subresource === 'scale' ? scaleOf(this.registry.get(r.kind, ns, p.name!)) : this.registry.get(r.kind, ns, p.name!));
          this.checkFields(res, r, p, q, patch, { strategic: type === 'strategic', patched: () => applyPatch(current(), patch, 'merge') });
        }
        if (p.subresource === 'scale') {
          const scale = applyPatch(scaleOf(this.registry.get(r.kind, ns, p.name)), patch, type === 'strategic' ? 'merge' : type) as KObj;
          return sendJSON(res, 200, this.putScale(r, ns, p.name, { ...scale, metadata: { ...scale.metadata, resourceVersion: (patch as KObj)?.metadata?.resourceVersion } }, dryRun));
        }
        return sendJSON(res, 200, this.registry.patch(r.kind, ns, p.name, patch, type, { ...sub, dryRun }));
      }
      case 'DELETE': {
        // Typed client-go deletes (kubectl drain) send their DeleteOptions in protobuf.
        const body = (parseBody(await readBodyBytes(req), isProtobuf(req.headers['content-type']) ? req.headers['content-type'] : 'application/json', 'DeleteOptions') ?? {}) as Record<string, unknown>;
        const grace = q.get('gracePeriodSeconds') ?? body.gracePeriodSeconds;
        const opts = {
          gracePeriodSeconds: grace === undefined || grace === null ? undefined : Number(grace),
          propagationPolicy: (q.get('propagationPolicy') ?? body.propagationPolicy) as string | undefined,
          preconditions: body.preconditions as { uid?: string; resourceVersion?: string } | undefined,
          dryRun,
        };
        if (!p.name) {
          const items = this.registry.deleteCollection(r.kind, ns, { labelSelector: q.get('labelSelector'), fieldSelector: q.get('fieldSelector') }, opts);
          return sendJSON(res, 200, { kind: `${r.kind}List`, apiVersion: apiVersionOf(r), metadata: { resourceVersion: String(this.registry.store.resourceVersion) }, items });
        }
        if (p.subresource) throw methodNotAllowed();
        return sendJSON(res, 200, this.registry.delete(r.kind, ns, p.name, opts));
      }
      default:
        throw methodNotAllowed();
    }
  }

  /**
   * A list or one object: JSON as stored, or the Table `kubectl get` asks for
   * in its Accept header (the scale subresource has no printer and stays JSON).
   */
  private get(r: ApiResource, ns: string | undefined, p: ParsedPath, q: URLSearchParams, accept: string | undefined): unknown {
    const table = p.subresource === 'scale' ? undefined : negotiateTable(accept);
    const topts = table ? tableOptions(q) : undefined;
    if (!p.name) {
      const list = this.registry.list(r.kind, ns, { labelSelector: q.get('labelSelector'), fieldSelector: q.get('fieldSelector') });
      const metadata = { resourceVersion: list.resourceVersion };
      if (table) return toTable(PRINTERS[r.kind], list.items, metadata, table, topts!, new Date());
      return { kind: `${r.kind}List`, apiVersion: apiVersionOf(r), metadata, items: list.items };
    }
    const obj = this.registry.get(r.kind, ns, p.name);
    if (table) return toTable(PRINTERS[r.kind], [obj], { resourceVersion: obj.metadata.resourceVersion }, table, topts!, new Date());
    return p.subresource === 'scale' ? scaleOf(obj) : obj;
  }

  private putScale(r: ApiResource, ns: string | undefined, name: string, scale: KObj, dryRun: boolean): unknown {
    const replicas = scale.spec?.replicas;
    if (!Number.isInteger(replicas) || replicas < 0) throw badRequest(`invalid replicas ${JSON.stringify(replicas)}: must be a non-negative integer`);
    const cur = this.registry.get(r.kind, ns, name);
    const expect = scale.metadata?.resourceVersion;
    if (expect && expect !== cur.metadata.resourceVersion) throw conflict(r, name);
    const next = { ...structuredClone(cur), spec: { ...structuredClone(cur.spec), replicas } };
    return scaleOf(this.registry.update(r.kind, ns, name, next, { dryRun }));
  }

  /**
   * A watch: events after resourceVersion N (or, without N / with "0", ADDED
   * for what exists now, then changes), one JSON object per line. A watch from
   * a version older than the kept history gets one ERROR event with a 410
   * Expired Status, as a real apiserver's watch cache sends it, and ends.
   */
  private watch(req: IncomingMessage, res: ServerResponse, p: ParsedPath, q: URLSearchParams): void {
    const r = p.resource;
    const ns = r.namespaced ? p.namespace : undefined;
    const labels = parseLabelSelector(q.get('labelSelector'));
    const fields = parseFieldSelector(q.get('fieldSelector'), r.kind);
    const matches = (o: KObj | undefined) =>
      Boolean(o) && (ns === undefined || o!.metadata.namespace === ns) && (!p.name || o!.metadata.name === p.name) && labels(o!.metadata.labels) && fields(o!);
    const rvText = q.get('resourceVersion') ?? '';
    if (rvText && rvText !== '0' && !/^\d+$/.test(rvText)) throw badRequest(`invalid resource version: ${rvText}`);

    const table = negotiateTable(req.headers.accept);
    const encode = table ? this.tableEncoder(r, table, tableOptions(q)) : (_type: string, object: unknown) => object;

    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.socket?.setNoDelay(true);
    const send = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object: encode(type, object) })}\n`);
    const onEvent = (e: StoreEvent) => {
      const now = matches(e.object);
      const before = e.type === 'MODIFIED' ? matches(e.prev) : now;
      // An object entering or leaving a filtered watch shows up as ADDED / DELETED (upstream's cacher does the same).
      if (e.type === 'MODIFIED') {
        if (now && before) send('MODIFIED', e.object);
        else if (now) send('ADDED', e.object);
        else if (before) send('DELETED', e.object);
      } else if (now) send(e.type, e.object);
    };
    const timers: NodeJS.Timeout[] = [];
    let unsubscribe = () => {};
    const stop = () => {
      unsubscribe();
      for (const t of timers) clearInterval(t);
      this.watches.delete(stop);
      if (!res.writableEnded) res.end();
    };
    this.watches.add(stop);
    req.on('close', stop);
    res.on('error', stop);
    try {
      if (!rvText || rvText === '0') {
        for (const o of this.registry.store.list(r.kind, ns).items) if (matches(o)) send('ADDED', o);
        unsubscribe = this.registry.store.watch(r.kind, undefined, onEvent);
      } else {
        unsubscribe = this.registry.store.watch(r.kind, Number(rvText), onEvent);
      }
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      send('ERROR', e.status);
      stop();
      return;
    }
    const timeout = Number(q.get('timeoutSeconds'));
    if (timeout > 0) timers.push(setTimeout(stop, timeout * 1000));
    if (truthy(q.get('allowWatchBookmarks'))) {
      const every = this.opts.bookmarkIntervalMs ?? 60_000;
      // Every event up to the store's current revision has been sent, so that revision is a safe resume point.
      timers.push(setInterval(() => send('BOOKMARK', { kind: r.kind, apiVersion: apiVersionOf(r), metadata: { resourceVersion: String(this.registry.store.resourceVersion) } }), every));
    }
  }

  /**
   * Watch events as Tables, as upstream's watchEmbeddedEncoder sends them: each
   * event's object becomes a Table holding that object's row; only the first
   * event carries columnDefinitions (kubectl keeps the last ones it saw). An
   * ERROR's Status passes unchanged. A BOOKMARK goes through the same
   * transform upstream, so its Table holds the row of a bare object that
   * carries only the resourceVersion.
   */
  private tableEncoder(r: ApiResource, target: TableTarget, opts: TableOptions): (type: string, object: unknown) => unknown {
    let headersSent = false;
    return (type, object) => {
      if (type === 'ERROR') return object;
      const o = object as KObj;
      const t = toTable(PRINTERS[r.kind], [o], { resourceVersion: o.metadata?.resourceVersion }, target, { ...opts, noHeaders: headersSent }, new Date());
      headersSent = true;
      return t;
    };
  }
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  return new ApiHttpServer(opts).start();
}
