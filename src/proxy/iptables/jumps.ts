// The rules kube-proxy keeps in the built-in chains in iptables mode. They are
// not part of the restore payload (--noflush must not touch INPUT, PREROUTING,
// ...): upstream ensures each with `iptables -C` then `iptables -I` (prepend) on
// every full sync (pkg/proxy/iptables/proxier.go iptablesJumpChains,
// iptablesKubeletJumpChains). The mechanism is shared with the other modes
// (src/proxy/jump-rules.ts); this file holds iptables mode's table of them.
import { jumpRuleArgs, type JumpRule } from '../jump-rules.ts';

export type { JumpRule };

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'];

function jump(table: JumpRule['table'], from: string, to: string, comment: string, match: string[] = []): JumpRule {
  return { table, from, to, comment, match, position: 'prepend' };
}

/** In upstream's order; each is prepended, so on a fresh host the last listed per chain ends up first. */
export const JUMP_RULES: readonly JumpRule[] = [
  jump('filter', 'INPUT', 'KUBE-EXTERNAL-SERVICES', 'kubernetes externally-visible service portals', NEW),
  jump('filter', 'FORWARD', 'KUBE-EXTERNAL-SERVICES', 'kubernetes externally-visible service portals', NEW),
  jump('filter', 'INPUT', 'KUBE-NODEPORTS', 'kubernetes health check service ports'),
  jump('filter', 'FORWARD', 'KUBE-SERVICES', 'kubernetes service portals', NEW),
  jump('filter', 'OUTPUT', 'KUBE-SERVICES', 'kubernetes service portals', NEW),
  jump('filter', 'FORWARD', 'KUBE-FORWARD', 'kubernetes forwarding rules'),
  jump('filter', 'INPUT', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall', NEW),
  jump('filter', 'OUTPUT', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall', NEW),
  jump('filter', 'FORWARD', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall', NEW),
  jump('nat', 'OUTPUT', 'KUBE-SERVICES', 'kubernetes service portals'),
  jump('nat', 'PREROUTING', 'KUBE-SERVICES', 'kubernetes service portals'),
  jump('nat', 'POSTROUTING', 'KUBE-POSTROUTING', 'kubernetes postrouting rules'),
];

/** kubelet's anti-martian chain; kube-proxy installs identical jumps (no comment) and never deletes them. */
export const KUBELET_JUMP_RULES: readonly JumpRule[] = [
  jump('filter', 'INPUT', 'KUBE-FIREWALL', ''),
  jump('filter', 'OUTPUT', 'KUBE-FIREWALL', ''),
];

/** Polled every syncPeriod; if a table was flushed under us the chain is gone and a full sync follows. */
export const CANARY_CHAIN = 'KUBE-PROXY-CANARY';
export const CANARY_TABLES = ['mangle', 'nat', 'filter'] as const;

/** argv for `iptables -w -t <table> -C|-I|-D <chain> <args>`, with the binary chosen by the caller. */
export function jumpRuleArgv(rule: JumpRule, op: '-C' | '-I' | '-D'): string[] {
  return ['-w', '-t', rule.table, op, rule.from, ...jumpRuleArgs(rule)];
}
