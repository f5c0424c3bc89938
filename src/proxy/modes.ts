// The proxy-mode registry: every mode's module by name. Adding a mode is a
// folder src/proxy/<mode>/ with a mode.ts, its name in PROXY_MODES, and a line
// here (the Record type makes a missing line a compile error).
import type { ProxyMode } from '../k8s/proxy-mode.ts';
import type { ProxyModeModule } from './mode-module.ts';
import { iptablesMode } from './iptables/mode.ts';
import { nftablesMode } from './nftables/mode.ts';
import { ipvsMode } from './ipvs/mode.ts';
import { userspaceMode } from './userspace/mode.ts';

const MODES: Record<ProxyMode, ProxyModeModule> = {
  iptables: iptablesMode,
  nftables: nftablesMode,
  ipvs: ipvsMode,
  userspace: userspaceMode,
};

export function proxyMode(name: ProxyMode): ProxyModeModule {
  return MODES[name];
}
