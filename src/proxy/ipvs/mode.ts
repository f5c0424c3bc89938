// IPVS mode: a virtual server per service address in the kernel's ip_vs, the
// ClusterIPs on the kube-ipvs0 dummy link, ipsets for a few constant iptables rules.
import { release } from 'node:os';
import type { ProxyModeModule } from '../mode-module.ts';
import { ipsetRestoreText, ipvsadmRestoreText, renderIpvs } from './render.ts';
import { ipvsKernelError } from './kernel.ts';
import { ipvsTracer } from './tracer.ts';

export const ipvsMode: ProxyModeModule = {
  name: 'ipvs',
  renders: 'the ipvsadm-restore, ipset restore and iptables-restore payloads',
  tracer: ipvsTracer,
  watchesServiceCIDRs: false,
  render(state, settings) {
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
  },
  async createBackend(settings, opts) {
    const { IpvsBackend } = await import('./backend.ts');
    return new IpvsBackend(settings, opts);
  },
  async hostError(host) {
    if (!host.sharesHostKernel) return undefined;
    // Checked before any namespace exists, so without probing links (that would touch the host's namespace).
    return ipvsKernelError({ kernel: release(), ipvs: await host.hasIPVS(), dummy: true });
  },
  async checkRules(node, spec, want, former) {
    const { checkIpvsRules } = await import('./rules-check.ts');
    return checkIpvsRules(node, spec, want, former);
  },
};
