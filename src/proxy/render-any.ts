// One entry point to every mode's pure render, for `svclab proxy render` and
// dry runs: text as the kernel tools read it, and the same as data.
import type { ProxySettings, ProxyState } from './model.ts';
import { renderIptables } from './iptables/render.ts';
import { chainNames, parseIptablesSave } from './iptables/save-parse.ts';
import { renderNftables, fullTransaction } from './nftables/render.ts';
import { renderIpvs, ipvsadmRestoreText, ipsetRestoreText } from './ipvs/render.ts';
import { renderUserspace } from './userspace/render.ts';
import { LabFileError } from '../util/errors.ts';

export interface RenderedPayload {
  text: string;
  data: unknown;
}

/** Userspace proxy ports are random upstream; offline we number them from here so output is stable. */
export const OFFLINE_PROXY_PORT_BASE = 36000;

export function renderPayload(mode: string, state: ProxyState, settings: ProxySettings, opts: { existingIptablesSave?: string } = {}): RenderedPayload {
  switch (mode) {
    case 'iptables': {
      const existingNatChains = opts.existingIptablesSave ? chainNames(parseIptablesSave(opts.existingIptablesSave), 'nat') : undefined;
      const r = renderIptables(state, settings, { existingNatChains });
      return { text: r.text, data: r };
    }
    case 'nftables': {
      const r = renderNftables(state, settings);
      return { text: fullTransaction(r), data: r };
    }
    case 'ipvs': {
      const r = renderIpvs(state, settings);
      const text = [
        '# ipvsadm-restore',
        ipvsadmRestoreText(r.virtualServers).trimEnd(),
        '# ipset restore',
        ipsetRestoreText(r.ipsets).trimEnd(),
        '# iptables-restore --noflush',
        r.iptables.trimEnd(),
        `# addresses on kube-ipvs0: ${r.dummyAddresses.join(' ') || '(none)'}`,
        '',
      ].join('\n');
      return { text, data: r };
    }
    case 'userspace': {
      const ports = new Map<string, number>();
      [...state.services.keys()].sort().forEach((k, i) => ports.set(k, OFFLINE_PROXY_PORT_BASE + i));
      // kube-proxy's default --bind-address 0.0.0.0: portals REDIRECT to the proxy port.
      const text = renderUserspace(state, settings, ports, '0.0.0.0');
      return { text, data: { ports: Object.fromEntries(ports), text } };
    }
  }
  throw new LabFileError(`unknown proxy mode "${mode}" (iptables, nftables, ipvs, userspace)`);
}
