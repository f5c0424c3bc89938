// The lab apiserver's client, over TCP ("http://192.168.49.2:6443") or a unix
// socket ("unix:///run/svclab/x/apiserver.sock", or just the path). Besides the
// verbs, `watch` is a reflector's list-then-watch loop: it lists when it has no
// resourceVersion, resumes a broken stream from the last version it saw, backs
// off while the server is away, and relists on 410 Gone, turning the relist
// into the ADDED/MODIFIED/DELETED events the caller missed.
import { Agent, request, type IncomingMessage } from 'node:http';
import type { KubeList, WatchEvent } from '../k8s/objects.ts';
import { ApiError, type Status } from './status.ts';
import type { ListQuery, Watcher, WatchOptions } from './watch-types.ts';
import { EnvironmentError } from '../util/errors.ts';

export { ApiError, kubectlErrorText } from './status.ts';
export { resourcePath } from './resources.ts';
export { informer, type Informer, type InformerHandlers } from './informer.ts';
export type { ListQuery, Watcher, WatchOptions } from './watch-types.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

export interface ClientTarget {
  /** http://host:port */
  server?: string;
  /** Path of the apiserver's unix socket. */
  socket?: string;
  /** Per-request timeout for everything but watches (ms). */
  timeoutMs?: number;
}

export type PatchKind = 'merge' | 'strategic' | 'json';

const PATCH_TYPES: Record<PatchKind, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
};

export interface DeleteOpts {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
}

/** Parses "http://h:p", "unix:///path", "unix:/path" or a bare socket path. */
export function parseTarget(target: string | ClientTarget): ClientTarget {
  if (typeof target !== 'string') return target;
  const t = target.trim();
  if (t.startsWith('unix:')) return { socket: t.replace(/^unix:(\/\/)?/, '') };
  if (t.startsWith('/') || t.startsWith('.')) return { socket: t };
  if (/^https?:\/\//.test(t)) return { server: t.replace(/^https:/, 'http:').replace(/\/+$/, '') };
  return { server: `http://${t}` };
}

function keyOf(o: Obj): string {
  return `${o?.metadata?.namespace ?? ''}/${o?.metadata?.name ?? ''}`;
}

function withQuery(path: string, q: Record<string, string | number | boolean | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

function isGone(e: unknown): boolean {
  return e instanceof ApiError && e.code === 410;
}

export class ApiClient {
  readonly target: ClientTarget;
  private readonly agent: Agent;

  constructor(target: string | ClientTarget) {
    this.target = parseTarget(target);
    if (!this.target.server && !this.target.socket) throw new Error('ApiClient needs a server URL or a socket path');
    this.agent = new Agent({ keepAlive: true, maxSockets: 32 });
  }

  /** Where this client talks to, for messages. */
  get where(): string {
    return this.target.socket ? `unix:${this.target.socket}` : this.target.server!;
  }

  private open(method: string, path: string, headers: Record<string, string>, agent: Agent | false = this.agent) {
    const base = this.target.server ? new URL(this.target.server) : undefined;
    return request({
      method,
      path,
      headers: { Accept: 'application/json', 'User-Agent': 'svclab', ...headers },
      agent,
      ...(this.target.socket ? { socketPath: this.target.socket } : { host: base!.hostname.replace(/^\[|\]$/g, ''), port: Number(base!.port || 80) }),
    });
  }

  /** One call; a non-2xx answer becomes an ApiError carrying the server's Status. */
  async request<T = Obj>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    try {
      return await this.once<T>(method, path, payload, contentType);
    } catch (e) {
      // A kept-alive connection the server closed meanwhile (it restarted): the request never reached it; send it again.
      if ((e as { reusedSocket?: boolean }).reusedSocket) return this.once<T>(method, path, payload, contentType);
      throw e;
    }
  }

  private once<T>(method: string, path: string, payload: string | undefined, contentType: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const req = this.open(method, path, payload === undefined ? {} : { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(payload)) });
      const timeoutMs = this.target.timeoutMs ?? 30_000;
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer from the apiserver at ${this.where} within ${timeoutMs / 1000}s`)));
      req.on('error', (e) => {
        const code = (e as NodeJS.ErrnoException).code;
        if (req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) return reject(Object.assign(e, { reusedSocket: true }));
        reject(connectionError(e, this.where));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const code = res.statusCode ?? 0;
          let data: Obj;
          try {
            data = text ? JSON.parse(text) : undefined;
          } catch {
            data = text;
          }
          if (code >= 200 && code < 300) return resolve(data as T);
          reject(new ApiError(data?.kind === 'Status' ? (data as Status) : { kind: 'Status', code, status: 'Failure', message: `${method} ${path}: HTTP ${code}: ${text.slice(0, 200)}` }));
        });
      });
      req.end(payload);
    });
  }

  list<T = Obj>(path: string, q: ListQuery = {}): Promise<KubeList<T>> {
    return this.request('GET', withQuery(path, { labelSelector: q.labelSelector, fieldSelector: q.fieldSelector }));
  }

  get<T = Obj>(path: string): Promise<T> {
    return this.request('GET', path);
  }

  /** get, with a 404 answered as undefined. */
  async getOrUndefined<T = Obj>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path);
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return undefined;
      throw e;
    }
  }

  /** POST to a collection path. */
  create<T = Obj>(path: string, obj: unknown): Promise<T> {
    return this.request('POST', path, obj);
  }

  /** PUT to an object path (with metadata.resourceVersion: a 409 if someone wrote in between). */
  update<T = Obj>(path: string, obj: unknown): Promise<T> {
    return this.request('PUT', path, obj);
  }

  /** PUT to the object's status subresource (what a kubelet does for pods). */
  updateStatus<T = Obj>(path: string, obj: unknown): Promise<T> {
    return this.request('PUT', `${path.replace(/\/status$/, '')}/status`, obj);
  }

  patch<T = Obj>(path: string, patch: unknown, type: PatchKind = 'merge'): Promise<T> {
    return this.request('PATCH', path, patch, PATCH_TYPES[type]);
  }

  patchStatus<T = Obj>(path: string, patch: unknown, type: PatchKind = 'merge'): Promise<T> {
    return this.patch(`${path.replace(/\/status$/, '')}/status`, patch, type);
  }

  delete<T = Obj>(path: string, opts: DeleteOpts = {}): Promise<T> {
    return this.request('DELETE', withQuery(path, { gracePeriodSeconds: opts.gracePeriodSeconds, propagationPolicy: opts.propagationPolicy }));
  }

  /**
   * One watch stream from `resourceVersion`; resolves when the server ends it,
   * rejects with a 410 ApiError when the version is too old (HTTP 410 or an
   * in-stream ERROR event), or with the connection error.
   */
  watchStream(path: string, resourceVersion: string, q: ListQuery & { timeoutSeconds?: number }, onEvent: (e: WatchEvent<Obj>) => void, signal?: { abort?: () => void }): Promise<void> {
    const url = withQuery(path, {
      watch: 1,
      resourceVersion,
      allowWatchBookmarks: true,
      labelSelector: q.labelSelector,
      fieldSelector: q.fieldSelector,
      timeoutSeconds: q.timeoutSeconds,
    });
    return new Promise<void>((resolve, reject) => {
      // A watch holds its connection; it must not take one of the keep-alive pool's.
      const req = this.open('GET', url, {}, false);
      let failed: Error | undefined;
      if (signal) signal.abort = () => req.destroy();
      req.on('error', (e) => reject(failed ?? connectionError(e, this.where)));
      req.on('response', (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            let s: Status;
            try {
              s = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              s = { kind: 'Status', code: res.statusCode, message: `watch ${path}: HTTP ${res.statusCode}` };
            }
            reject(new ApiError(s));
          });
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line) continue;
            const ev = JSON.parse(line) as WatchEvent<Obj>;
            if (ev.type === 'ERROR') {
              failed = new ApiError(ev.object as Status);
              req.destroy();
              return reject(failed);
            }
            onEvent(ev);
          }
        });
        res.on('end', () => resolve());
        res.on('aborted', () => reject(failed ?? new Error(`watch ${path}: connection to ${this.where} lost`)));
        res.on('error', (e) => reject(failed ?? e));
      });
      req.end();
    });
  }

  /**
   * The reflector loop over `path` (a collection path). Without a
   * resourceVersion it lists first and reports every item as ADDED. It keeps
   * going until stop(): a closed stream resumes from the last version, an
   * unreachable server is retried with backoff, and a 410 triggers a relist
   * whose differences are reported as events.
   */
  watch(path: string, resourceVersion: string | undefined, onEvent: (e: WatchEvent<Obj>) => void, opts: WatchOptions = {}): Watcher {
    const known = new Map<string, Obj>();
    const backoff = opts.backoff ?? { initial: 200, max: 5000 };
    let rv = resourceVersion ?? '';
    let needList = !rv || rv === '0';
    let stopped = false;
    let synced = false;
    const abort: { abort?: () => void } = {};
    let wake: (() => void) | undefined;
    const markSynced = () => {
      if (synced) return;
      synced = true;
      opts.onSynced?.();
    };
    const deliver = (e: WatchEvent<Obj>) => {
      if (e.object?.metadata?.resourceVersion) rv = e.object.metadata.resourceVersion;
      if (e.type === 'BOOKMARK') return;
      if (e.type === 'DELETED') known.delete(keyOf(e.object));
      else known.set(keyOf(e.object), e.object);
      onEvent(e);
    };
    const relist = async () => {
      const list = await this.list(path, opts);
      const seen = new Set<string>();
      for (const item of list.items) {
        const k = keyOf(item);
        seen.add(k);
        const old = known.get(k);
        if (!old) deliver({ type: 'ADDED', object: item });
        else if (old.metadata?.resourceVersion !== item.metadata?.resourceVersion) deliver({ type: 'MODIFIED', object: item });
      }
      for (const [k, old] of [...known]) if (!seen.has(k)) deliver({ type: 'DELETED', object: old });
      rv = list.metadata.resourceVersion;
      needList = false;
    };
    const loop = async () => {
      let delay = backoff.initial;
      while (!stopped) {
        try {
          if (needList) {
            await relist();
            markSynced();
          }
          // Like client-go, ask the server to end the stream after 5-10 minutes and start a fresh one.
          const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
          await this.watchStream(path, rv, { ...opts, timeoutSeconds }, (e) => {
            delay = backoff.initial;
            deliver(e);
            markSynced();
          }, abort);
          delay = backoff.initial;
        } catch (e) {
          if (stopped) break;
          if (isGone(e)) {
            needList = true;
            continue;
          }
          opts.onError?.(e as Error);
          await new Promise<void>((r) => {
            wake = r;
            setTimeout(r, delay).unref?.();
          });
          delay = Math.min(delay * 2, backoff.max);
        }
      }
    };
    const done = loop();
    return {
      stop: () => {
        stopped = true;
        abort.abort?.();
        wake?.();
      },
      get resourceVersion() {
        return rv;
      },
      get synced() {
        return synced;
      },
      done,
    };
  }

  /** Closes idle keep-alive connections (watches end with their stop()). */
  close(): void {
    this.agent.destroy();
  }
}

function connectionError(e: Error, where: string): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED' || code === 'ENOENT') {
    // An environment fault, not a bug: one line and what to do, no stack (the CLI prints EnvironmentErrors so).
    const err = new EnvironmentError(`the apiserver at ${where} is not reachable (${code}): is the lab up?`, 'svclab status lists the labs that are up; a lab whose apiserver died needs svclab down LAB, then svclab up again');
    return Object.assign(err, { code });
  }
  return e;
}

