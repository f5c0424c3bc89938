// The kubelet's few API calls (PodApi) over the lab apiserver's REST API:
// list + watch the node's pods (fieldSelector spec.nodeName), PUT the status
// subresource, DELETE with gracePeriodSeconds=0. Kept behind PodApi so the
// kubelet is tested with a fake and can move onto the control plane's client.
import { request } from 'node:http';
import type { Pod } from '../k8s/objects.ts';
import type { KubeList, WatchEvent } from '../k8s/objects.ts';
import type { PodApi } from './pod-worker.ts';
import type { PodStatus } from './pod-status.ts';

interface Target {
  socketPath?: string;
  host?: string;
  port?: number;
}

/** "http://192.168.49.2:6443", "unix:///path/api.sock" or "/path/api.sock". */
export function apiTarget(api: string): Target {
  if (api.startsWith('unix://')) return { socketPath: api.slice('unix://'.length) };
  if (api.startsWith('/')) return { socketPath: api };
  const u = new URL(api);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80) };
}

class HttpError extends Error {
  constructor(readonly code: number, body: string, what: string) {
    let message = body;
    try {
      message = JSON.parse(body).message ?? body;
    } catch {
      /* not a Status */
    }
    super(`${what}: HTTP ${code}: ${message}`);
  }
}

function call(t: Target, method: string, path: string, body?: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ ...t, method, path, headers: { accept: 'application/json', ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}) }, timeout: 30_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d) => (text += d));
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300) resolve(text ? JSON.parse(text) : undefined);
        else reject(new HttpError(code, text, `${method} ${path}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end(data);
  });
}

const podPath = (p: Pod) => `/api/v1/namespaces/${encodeURIComponent(p.metadata?.namespace ?? 'default')}/pods/${encodeURIComponent(p.metadata?.name ?? '')}`;

export function createPodApi(api: string, log: (line: string) => void = (l) => console.error(l)): PodApi {
  const t = apiTarget(api);
  return {
    async watchPods(nodeName, h) {
      const selector = encodeURIComponent(`spec.nodeName=${nodeName}`);
      const known = new Map<string, Pod>();
      let rv = '';
      let stopped = false;
      let current: { destroy(): void } | undefined;

      // List, and tell the handlers what changed since what they knew (a relist after a 410).
      const list = async () => {
        const l = (await call(t, 'GET', `/api/v1/pods?fieldSelector=${selector}`)) as KubeList<Pod>;
        rv = l.metadata.resourceVersion;
        const seen = new Set<string>();
        for (const p of l.items) {
          const key = p.metadata?.uid ?? '';
          seen.add(key);
          if (known.has(key)) h.onUpdate(p);
          else h.onAdd(p);
          known.set(key, p);
        }
        for (const [key, p] of known) {
          if (!seen.has(key)) {
            known.delete(key);
            h.onDelete(p);
          }
        }
      };

      const watchOnce = () =>
        new Promise<void>((resolve) => {
          const path = `/api/v1/pods?watch=1&allowWatchBookmarks=true&fieldSelector=${selector}&resourceVersion=${encodeURIComponent(rv)}`;
          const req = request({ ...t, method: 'GET', path }, (res) => {
            if (res.statusCode === 410) rv = '';
            let buf = '';
            res.setEncoding('utf8').on('data', (d: string) => {
              buf += d;
              let nl: number;
              while ((nl = buf.indexOf('\n')) >= 0) {
                const line = buf.slice(0, nl).trim();
                buf = buf.slice(nl + 1);
                if (!line) continue;
                const ev = JSON.parse(line) as WatchEvent<Pod>;
                if (ev.type === 'ERROR') {
                  // 410 Gone: our resourceVersion is too old; relist.
                  if ((ev.object as unknown as { code?: number }).code === 410) rv = '';
                  continue;
                }
                const p = ev.object;
                if (p.metadata?.resourceVersion) rv = p.metadata.resourceVersion;
                if (ev.type === 'BOOKMARK') continue;
                const key = p.metadata?.uid ?? '';
                if (ev.type === 'DELETED') {
                  known.delete(key);
                  h.onDelete(p);
                } else {
                  const had = known.has(key);
                  known.set(key, p);
                  if (had) h.onUpdate(p);
                  else h.onAdd(p);
                }
              }
            });
            res.on('end', resolve);
            res.on('error', () => resolve());
          });
          req.on('error', () => resolve());
          req.end();
          current = req;
        });

      await list();
      void (async () => {
        let delay = 200;
        while (!stopped) {
          try {
            if (!rv) await list();
            const t0 = Date.now();
            await watchOnce();
            if (Date.now() - t0 > 5000) delay = 200;
          } catch (err) {
            log(`pod watch: ${(err as Error).message}; retrying`);
          }
          if (stopped) break;
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 5000);
        }
      })();
      return {
        stop() {
          stopped = true;
          current?.destroy();
        },
      };
    },

    async putStatus(pod: Pod, status: PodStatus) {
      // The status subresource takes the whole pod; the uid precondition is implied by the path's object.
      const body: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: pod.metadata?.name, namespace: pod.metadata?.namespace, uid: pod.metadata?.uid }, status };
      await call(t, 'PUT', `${podPath(pod)}/status`, body);
    },

    async deletePod(pod: Pod) {
      try {
        await call(t, 'DELETE', podPath(pod), {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          gracePeriodSeconds: 0,
          preconditions: { uid: pod.metadata?.uid },
        });
      } catch (err) {
        if (!(err instanceof HttpError && err.code === 404)) throw err;
      }
    },
  };
}
