// Kubernetes name rules (k8s.io/apimachinery/pkg/util/validation), with the
// exact messages the apiserver prints, so a learner sees here what kubectl
// would say. Each check returns the problem in words, or undefined if fine.

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const DNS1035_LABEL = '[a-z]([-a-z0-9]*[a-z0-9])?';

// Upstream's RegexError: "<msg> (e.g. 'a',  or 'b', regex used for validation is '<re>')" —
// the doubled space after the first example is upstream's, kept on purpose.
function regexError(msg: string, re: string, ...examples: string[]): string {
  const eg = examples.map((e) => `'${e}', `).join(' or ');
  return `${msg} (e.g. ${eg}regex used for validation is '${re}')`;
}

const maxLen = (n: number) => `must be no more than ${n} characters`;

export function dns1123LabelError(value: string, max = 63): string | undefined {
  if (value.length > max) return maxLen(max);
  if (!new RegExp(`^${DNS1123_LABEL}$`).test(value)) {
    return regexError(
      'a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character',
      DNS1123_LABEL, 'my-name', '123-abc');
  }
  return undefined;
}

export function dns1123SubdomainError(value: string): string | undefined {
  if (value.length > 253) return maxLen(253);
  if (!new RegExp(`^${DNS1123_SUBDOMAIN}$`).test(value)) {
    return regexError(
      'a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character',
      DNS1123_SUBDOMAIN, 'example.com');
  }
  return undefined;
}

export function dns1035LabelError(value: string): string | undefined {
  if (value.length > 63) return maxLen(63);
  if (!new RegExp(`^${DNS1035_LABEL}$`).test(value)) {
    return regexError(
      'a DNS-1035 label must consist of lower case alphanumeric characters or \'-\', start with an alphabetic character, and end with an alphanumeric character',
      DNS1035_LABEL, 'my-name', 'abc-123');
  }
  return undefined;
}

/**
 * IsValidPortName: a named port is an IANA_SVC_NAME. Every problem, in upstream's
 * order (a Service's targetPort and kubectl's `--tcp port:name` report them all).
 */
export function portNameErrors(name: string): string[] {
  const errs: string[] = [];
  if (name.length > 15) errs.push(maxLen(15));
  if (!/^[-a-z0-9]+$/.test(name)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(name)) errs.push('must contain at least one letter (a-z)');
  if (name.includes('--')) errs.push('must not contain consecutive hyphens');
  if (/^-|-$/.test(name)) errs.push('must not begin or end with a hyphen');
  return errs;
}

/** kubectl's field error wording: `Invalid value: "Db_1": <reason>`. */
export function invalidValue(value: unknown, reason: string): string {
  return `Invalid value: ${JSON.stringify(value)}: ${reason}`;
}
