// Cluster DNS records for the DNS pod: a hosts file with
// `<clusterIP> <svc>.<ns>.svc.cluster.local` per Service with a ClusterIP, and
// one line per ready endpoint for headless Services (what CoreDNS's kubernetes
// plugin answers). dnsmasq --hostsdir re-reads a changed file and drops the old
// records, so the file is rewritten atomically (temp file + rename; dnsmasq
// ignores dot-files, so it never reads the half-written temp).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EndpointSlice, Service } from '../k8s/objects.ts';
import { LABEL_SERVICE_NAME } from '../k8s/labels.ts';
import type { Store } from './store.ts';
import { onKinds, WorkQueue, type Controller, type Log } from './controllers/queue.ts';

export const HOSTS_FILE = 'services.hosts';

/** The hosts file text for these objects (pure). ExternalName Services need CNAMEs, which a hosts file cannot hold. */
export function renderHostsFile(services: Service[], slices: EndpointSlice[], domain = 'cluster.local'): string {
  const lines: string[] = [];
  const sorted = [...services].sort((a, b) => `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));
  for (const svc of sorted) {
    const ns = svc.metadata?.namespace ?? 'default';
    const fqdn = `${svc.metadata?.name}.${ns}.svc.${domain}`;
    if (svc.spec?.type === 'ExternalName') continue;
    const ip = svc.spec?.clusterIP;
    if (ip && ip !== 'None') {
      lines.push(`${ip} ${fqdn}`);
      continue;
    }
    if (ip !== 'None') continue;
    const records = new Set<string>();
    for (const s of slices) {
      if (s.metadata?.namespace !== ns || s.metadata?.labels?.[LABEL_SERVICE_NAME] !== svc.metadata?.name) continue;
      for (const e of s.endpoints ?? []) {
        // A nil "ready" means ready (discovery/v1 semantics).
        if (e.conditions?.ready === false) continue;
        for (const a of e.addresses) {
          records.add(`${a} ${fqdn}`);
          if (e.hostname) records.add(`${a} ${e.hostname}.${fqdn}`);
        }
      }
    }
    lines.push(...[...records].sort());
  }
  return `# Cluster DNS records, written by the svclab control plane on every Service change.\n${lines.join('\n')}${lines.length ? '\n' : ''}`;
}

/** Keeps `<dir>/services.hosts` in step with Services and EndpointSlices. */
export class DnsRecords implements Controller {
  readonly name = 'dns-records';
  private readonly queue: WorkQueue;
  private unsubscribe?: () => void;
  private last: string | undefined;

  constructor(
    private readonly store: Store,
    private readonly dir: string,
    private readonly log: Log,
    private readonly domain = 'cluster.local',
  ) {
    this.queue = new WorkQueue(this.name, () => this.write(), log);
  }

  get path(): string {
    return join(this.dir, HOSTS_FILE);
  }

  start(): void {
    mkdirSync(this.dir, { recursive: true });
    try {
      this.last = readFileSync(this.path, 'utf8');
    } catch {
      this.last = undefined;
    }
    this.unsubscribe = onKinds(this.store, ['Service', 'EndpointSlice'], () => this.queue.add('hosts'));
    this.write();
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue.stop();
  }

  /** Writes the file now if its content changed; returns true when it wrote. */
  write(): boolean {
    const text = renderHostsFile(this.store.list('Service').items as Service[], this.store.list('EndpointSlice').items as EndpointSlice[], this.domain);
    if (text === this.last) return false;
    const tmp = join(this.dir, `.${HOSTS_FILE}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, this.path);
    this.last = text;
    this.log(`dns-records: wrote ${this.path} (${text.split('\n').filter((l) => l && !l.startsWith('#')).length} records)`);
    return true;
  }
}
