// kube-proxy's --proxy-mode values, declared once: the lab schema, the CLI's
// options, the lab record and the proxy daemon all take their list and type
// from here. The order is the matrix's column order (upstream's default first).
import { EnvironmentError, LabFileError } from '../util/errors.ts';

export const PROXY_MODES = ['iptables', 'nftables', 'ipvs', 'userspace'] as const;
export type ProxyMode = (typeof PROXY_MODES)[number];

export function isProxyMode(text: string): text is ProxyMode {
  return (PROXY_MODES as readonly string[]).includes(text);
}

/** The message a lab file's unknown proxy.mode gets (the schema's oneOf says the same). */
export function unknownProxyModeMessage(text: string): string {
  return `unknown proxy mode ${JSON.stringify(text)}; valid proxy modes: ${PROXY_MODES.join(', ')}`;
}

/** A `--mode` value (or a record's mode) as a ProxyMode; anything else is bad input (exit code 2). */
export function parseProxyMode(text: string): ProxyMode {
  if (!isProxyMode(text)) throw new LabFileError(unknownProxyModeMessage(text));
  return text;
}

/** "--modes iptables,nftables" → the modes, each once, in the order given. */
export function parseProxyModeList(text: string): ProxyMode[] {
  const modes = text.split(',').map((m) => m.trim()).filter(Boolean);
  const bad = modes.filter((m) => !isProxyMode(m));
  if (!modes.length || bad.length) {
    throw new EnvironmentError(`--modes ${text}: ${bad.length ? `unknown mode ${bad.join(', ')}` : 'no mode given'}`, `modes: ${PROXY_MODES.join(', ')}`);
  }
  return [...new Set(modes.filter(isProxyMode))];
}
