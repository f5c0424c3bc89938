// Test scaffolding that mirrors upstream's proxier_test.go: NewFakeProxier's
// settings, makeTestService/makeTestEndpointSlice, a fake kernel that applies
// restore payloads with --noflush semantics, and the packet tracer
// (tracePacket/runPacketFlowTests) that upstream uses for behaviour tests.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EndpointSlice, Service } from '../../../src/k8s/objects.ts';
import { LABEL_SERVICE_NAME } from '../../../src/k8s/labels.ts';
import { DEFAULT_SETTINGS, type ProxySettings } from '../../../src/proxy/model.ts';
import { buildProxyState } from '../../../src/proxy/proxy-state.ts';
import { renderIptables, type IptablesRuleset, type RenderOptions } from '../../../src/proxy/iptables/render.ts';
import { parseIptablesSave, parseRule, type ParsedRule } from '../../../src/proxy/iptables/save-parse.ts';
import { ruleMatches as matchRule } from '../../../src/proxy/iptables/match.ts';

export const testNodeName = 'test-node';
export const testNodeIP = '192.168.0.2';
export const testNodeIPAlt = '192.168.1.2';
export const testExternalIP = '192.168.99.11';
export const testExternalClient = '203.0.113.2';
export const testExternalClientBlocked = '203.0.113.130';
/** Upstream's fake interfaces: lo 127.0.0.1; eth0 192.168.0.2, 192.168.1.2, 192.168.99.11 (IPv4 part). */
export const testNodeIPs = [testNodeIP, testNodeIPAlt, testExternalIP];

/** NewFakeProxier: pod CIDR 10.0.0.0/8 detector, localhost NodePorts, both nfacct counters present. */
export function upstreamSettings(overrides: Partial<ProxySettings> = {}): ProxySettings {
  return {
    ...DEFAULT_SETTINGS,
    nodeName: testNodeName,
    nodeIPs: [...testNodeIPs, '127.0.0.1'],
    clusterCIDR: '10.0.0.0/8',
    hasNfacct: true,
    randomFully: false,
    ...overrides,
  };
}

export function golden(name: string): string {
  return readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'golden', name), 'utf8');
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function makeService(namespace: string, name: string, fn: (svc: Mutable<Service> & { spec: NonNullable<Service['spec']>; status: NonNullable<Service['status']> }) => void): Service {
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, annotations: {} }, spec: {}, status: {} } as any;
  fn(svc);
  return svc as Service;
}

export function makeSlice(namespace: string, name: string, n: number, fn: (eps: any) => void): EndpointSlice {
  const eps: any = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-${n}`, namespace, labels: { [LABEL_SERVICE_NAME]: name } },
    addressType: 'IPv4',
    endpoints: [],
    ports: [],
  };
  fn(eps);
  return eps as EndpointSlice;
}

/** Upstream's fake proxier tests inject the mark "0x4000" instead of Go's "%#08x" spelling. */
export const UPSTREAM_TEST_MARK = '0x4000';

export function render(services: Service[], slices: EndpointSlice[], settings = upstreamSettings(), opts: RenderOptions = {}): IptablesRuleset {
  const state = buildProxyState({ services, slices }, settings);
  return renderIptables(state, settings, { masqueradeMark: UPSTREAM_TEST_MARK, ...opts });
}

// ---------------------------------------------------------------------------
// A kernel stand-in: iptables-restore --noflush semantics on chains and rules.

const BUILTIN: Record<string, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
};

export class FakeKernel {
  readonly tables = new Map<string, Map<string, string[]>>();

  constructor() {
    for (const [t, chains] of Object.entries(BUILTIN)) this.tables.set(t, new Map(chains.map((c) => [c, []])));
  }

  /** A chain line creates or flushes; -A appends; -X deletes. Fails like the kernel on dangling names. */
  restore(text: string): void {
    const dump = parseIptablesSave(text);
    for (const t of dump.tables) {
      const table = this.tables.get(t.name) ?? new Map<string, string[]>();
      this.tables.set(t.name, table);
      for (const c of t.chains) table.set(c.name, []);
      for (const c of t.chains) for (const r of c.rules) table.get(c.name)!.push(r.raw);
      for (const c of t.chains) if (c.deleted) table.delete(c.name);
    }
  }

  natChains(): string[] {
    return [...(this.tables.get('nat')?.keys() ?? [])];
  }

  rules(table: string, chain: string): ParsedRule[] {
    return (this.tables.get(table)?.get(chain) ?? []).map((raw) => parseRule(raw));
  }
}

/**
 * Upstream's proxier loop in miniature: remembers objects, which services changed since the
 * last sync, and whether the next sync must be full; applies each payload to a FakeKernel.
 */
export class FakeProxier {
  readonly kernel = new FakeKernel();
  services = new Map<string, Service>();
  slices = new Map<string, EndpointSlice>();
  changed = new Set<string>();
  needFullSync = true;
  last?: IptablesRuleset;

  constructor(readonly settings = upstreamSettings()) {}

  private nsn(o: Service | EndpointSlice): string {
    const m = o.metadata!;
    const svc = (m.labels as Record<string, string> | undefined)?.[LABEL_SERVICE_NAME];
    return `${m.namespace}/${'addressType' in o ? svc : m.name}`;
  }

  addService(svc: Service): void {
    this.services.set(this.nsn(svc), svc);
    this.changed.add(this.nsn(svc));
  }
  deleteService(svc: Service): void {
    this.services.delete(this.nsn(svc));
    this.changed.add(this.nsn(svc));
  }
  addSlice(slice: EndpointSlice): void {
    this.slices.set(`${slice.metadata!.namespace}/${slice.metadata!.name}`, slice);
    this.changed.add(this.nsn(slice));
  }
  deleteSlice(slice: EndpointSlice): void {
    this.slices.delete(`${slice.metadata!.namespace}/${slice.metadata!.name}`);
    this.changed.add(this.nsn(slice));
  }
  forceFullSync(): IptablesRuleset {
    this.needFullSync = true;
    return this.sync();
  }

  /** `cleanup: false` models upstream's large-cluster throttle: no iptables-save, no stale-chain deletion. */
  sync({ cleanup = true } = {}): IptablesRuleset {
    const state = buildProxyState({ services: [...this.services.values()], slices: [...this.slices.values()] }, this.settings);
    const out = renderIptables(state, this.settings, {
      masqueradeMark: UPSTREAM_TEST_MARK,
      existingNatChains: cleanup ? this.kernel.natChains() : undefined,
      changed: this.needFullSync ? undefined : new Set(this.changed),
    });
    this.kernel.restore(out.text);
    this.changed.clear();
    this.needFullSync = false;
    this.last = out;
    return out;
  }
}

// ---------------------------------------------------------------------------
// Packet tracer (upstream tracePacket): follows a packet through the rules, collecting
// every endpoint a probabilistic cascade can reach.

export interface FlowTest {
  name: string;
  sourceIP: string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  destIP: string;
  destPort: number;
  output: string;
  masq?: boolean;
}

function option(rule: ParsedRule, match: string, name: string) {
  return rule.matches.find((m) => m.name === match)?.options.find((o) => o.name === name);
}

export function tracePacket(kernel: FakeKernel, src: string, protocol: string, dst: string, dport: string, nodeIPs: string[]) {
  const local = new Set(['127.0.0.1', ...nodeIPs]);
  const matches: string[] = [];
  const outputs: string[] = [];
  let masq = false;

  const ruleMatches = (r: ParsedRule, dest: string): boolean => {
    // Rules that depend on history (affinity, marks, conntrack state) never match a fresh packet.
    if (option(r, 'recent', '--rcheck') || r.matches.some((m) => m.name === 'mark' || m.name === 'conntrack')) return false;
    const packet = { proto: protocol, src, dst: dest, dport: Number(dport) };
    // What the rule text cannot decide (statistic, interfaces) stays open: like upstream's
    // tracePacket, the cascade follows every endpoint branch.
    return matchRule(r, { packet, mark: 0, ct: new Set(['NEW']), local: (ip) => local.has(ip) }) !== 'no';
  };

  const runChain = (table: string, chain: string, dest: string): boolean => {
    for (const r of kernel.rules(table, chain)) {
      if (!r.target || !ruleMatches(r, dest)) continue;
      matches.push(`${chain}: ${r.target}`);
      switch (r.target) {
        case 'KUBE-MARK-MASQ':
          masq = true;
          continue;
        case 'ACCEPT':
        case 'REJECT':
        case 'DROP':
          outputs.push(r.target);
          return true;
        case 'DNAT':
          outputs.push(r.targetOptions.find((o) => o.name === '--to-destination')!.values[0]);
          return true;
        default: {
          const terminated = runChain(table, r.target, dest);
          if (terminated && !option(r, 'statistic', '--probability')) return true;
        }
      }
    }
    return false;
  };

  runChain('nat', 'KUBE-SERVICES', dst);
  // A DNAT in PREROUTING changes the destination the filter rules see.
  const dest = outputs.length ? outputs[0].split(':')[0] : dst;
  for (const chain of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL']) runChain('filter', chain, dest);
  return { matches, output: outputs.join(', '), masq };
}

/** Returns one message per failed flow test (empty when all pass). */
export function runFlowTests(kernel: FakeKernel, tests: FlowTest[], nodeIPs = testNodeIPs): string[] {
  const failures: string[] = [];
  for (const t of tests) {
    const r = tracePacket(kernel, t.sourceIP, (t.protocol ?? 'TCP').toLowerCase(), t.destIP, String(t.destPort), nodeIPs);
    if (r.output !== t.output || r.masq !== (t.masq ?? false)) {
      failures.push(`${t.name}: ${t.sourceIP} -> ${t.destIP}:${t.destPort} got output "${r.output}" masq ${r.masq}, ` +
        `want "${t.output}" masq ${t.masq ?? false}\n    via ${r.matches.join(' | ')}`);
    }
  }
  return failures;
}

/** Renders (full sync) into a fresh fake kernel. */
export function kernelFor(services: Service[], slices: EndpointSlice[], settings = upstreamSettings()): FakeKernel {
  const k = new FakeKernel();
  k.restore(render(services, slices, settings).text);
  return k;
}
