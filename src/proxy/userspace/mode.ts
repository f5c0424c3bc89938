// Userspace mode (kube-proxy ≤ 1.25): portal rules REDIRECT ClusterIP:port to a
// port the proxy process listens on, and the process copies bytes to a pod.
import type { ProxyModeModule } from '../mode-module.ts';
import { renderUserspace } from './render.ts';
import { userspaceTracer } from './tracer.ts';

/** Userspace proxy ports are random upstream; offline we number them from here so output is stable. */
export const OFFLINE_PROXY_PORT_BASE = 36000;

export const userspaceMode: ProxyModeModule = {
  name: 'userspace',
  renders: `the portal rules (proxy ports numbered from ${OFFLINE_PROXY_PORT_BASE})`,
  tracer: userspaceTracer,
  watchesServiceCIDRs: false,
  render(state, settings) {
    const ports = new Map<string, number>();
    [...state.services.keys()].sort().forEach((k, i) => ports.set(k, OFFLINE_PROXY_PORT_BASE + i));
    // kube-proxy's default --bind-address 0.0.0.0: portals REDIRECT to the proxy port.
    const text = renderUserspace(state, settings, ports, '0.0.0.0');
    return { text, data: { ports: Object.fromEntries(ports), text } };
  },
  async createBackend(settings, opts) {
    const { UserspaceBackend } = await import('./backend.ts');
    return new UserspaceBackend(settings, opts);
  },
  async hostError() {
    return undefined;
  },
  async checkRules(node, spec, want) {
    const { checkUserspaceRules } = await import('./rules-check.ts');
    return checkUserspaceRules(node, spec, want);
  },
};
