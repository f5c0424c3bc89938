// iptables mode (upstream's default): KUBE-SERVICES → KUBE-SVC → KUBE-SEP chains
// written with iptables-restore. Needs nothing beyond the tools every lab needs.
import type { ProxyModeModule } from '../mode-module.ts';
import { renderIptables } from './render.ts';
import { chainNames, parseIptablesSave } from './save-parse.ts';
import { iptablesTracer } from './tracer.ts';

export const iptablesMode: ProxyModeModule = {
  name: 'iptables',
  renders: 'what kube-proxy feeds to `iptables-restore --noflush --counters` (filter, then nat)',
  tracer: iptablesTracer,
  watchesServiceCIDRs: false,
  render(state, settings, opts = {}) {
    const existingNatChains = opts.existingIptablesSave ? chainNames(parseIptablesSave(opts.existingIptablesSave), 'nat') : undefined;
    const r = renderIptables(state, settings, { existingNatChains });
    return { text: r.text, data: r };
  },
  async createBackend(settings, opts) {
    const { IptablesBackend } = await import('./backend.ts');
    return new IptablesBackend(settings, opts);
  },
  async hostError() {
    return undefined;
  },
  async checkRules(node, spec, want) {
    const { checkIptablesRules } = await import('./rules-check.ts');
    return checkIptablesRules(node, spec, want);
  },
};
