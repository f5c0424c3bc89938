// Field schemas shared by the lab schema and the Kubernetes object schemas:
// ports, CIDRs, IPs, durations and enums, each with the message a user reads.
import { z } from 'zod';
import { ipFamily, parseCidr } from '../util/cidr.ts';

// Upstream's wording for port fields (validation.IsValidPortNum).
const PORT_RANGE = 'must be between 1 and 65535, inclusive';

export const port = () => z.int().min(1, { error: PORT_RANGE }).max(65535, { error: PORT_RANGE });

/** "10.96.0.0/12"; the message is src/util/cidr.ts's (host bits, prefix, not an address). */
export const cidr = () =>
  z.string().superRefine((v, ctx) => {
    try {
      parseCidr(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
    }
  });

export const ipAddress = () =>
  z.string().refine((v) => ipFamily(v) !== 0, { error: (iss) => `"${iss.input}" is not an IP address` });

/** Go's time.Duration text as KubeProxyConfiguration takes it: "30s", "1m0s", "500ms". */
export const duration = () =>
  z.string().regex(/^(0|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+)$/, {
    error: (iss) => `"${iss.input}" is not a duration (write it like 30s, 1m0s or 500ms)`,
  });

/**
 * An enum whose error names the field's meaning and lists the choices:
 * `unknown proxy mode "ipvsx"; valid proxy modes: iptables, nftables, ipvs, userspace`.
 * A missing value falls through to the generic "missing required field".
 */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T, what: string) {
  return z.enum(values, {
    error: (iss) =>
      iss.input === undefined ? undefined : `unknown ${what} ${JSON.stringify(iss.input)}; valid ${what}s: ${values.join(', ')}`,
  });
}

/** Label maps (selectors, labels): string values only, as the apiserver insists. */
export const stringMap = () => z.record(z.string(), z.string());
