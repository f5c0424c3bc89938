// Finds the Debian mirror this machine is configured to use. Classrooms and CI
// often reach only their own mirror (or a snapshot/proxy URL), so the image is
// built from the same URL apt uses here rather than a hard-coded one.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentError } from '../util/errors.ts';

export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
}

/** Parses a deb822 `.sources` file: paragraphs of `Key: value`, `#` comments. */
export function parseDeb822Sources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of para.split('\n')) {
      if (line.startsWith('#') || !line.trim()) continue;
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m) fields.set(m[1].toLowerCase(), m[2].trim());
    }
    if ((fields.get('enabled') ?? 'yes').toLowerCase() === 'no') continue;
    if (!(fields.get('types') ?? '').split(/\s+/).includes('deb')) continue;
    const uris = (fields.get('uris') ?? '').split(/\s+/).filter(Boolean);
    for (const uri of uris) {
      out.push({
        uri,
        suites: (fields.get('suites') ?? '').split(/\s+/).filter(Boolean),
        components: (fields.get('components') ?? '').split(/\s+/).filter(Boolean),
      });
    }
  }
  return out;
}

/** Parses one-line `sources.list` entries: `deb [opts] URI suite comp...`. */
export function parseOneLineSources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (m) out.push({ uri: m[1], suites: [m[2]], components: m[3].split(/\s+/).filter(Boolean) });
  }
  return out;
}

/**
 * Picks the mirror that serves `suite` (bookworm) with `main` — not
 * -security or -updates, which debootstrap cannot bootstrap from.
 */
export function pickMirror(sources: AptSource[], suite = 'bookworm'): string | undefined {
  const hit = sources.find((s) => s.suites.includes(suite) && (s.components.length === 0 || s.components.includes('main')));
  return hit?.uri.replace(/\/+$/, '');
}

/** All `deb` sources configured on this machine (sources.list and sources.list.d). */
export function readAptSources(root = '/etc/apt'): AptSource[] {
  const out: AptSource[] = [];
  const list = join(root, 'sources.list');
  if (existsSync(list)) out.push(...parseOneLineSources(readFileSync(list, 'utf8')));
  const dir = join(root, 'sources.list.d');
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).sort()) {
      const text = readFileSync(join(dir, f), 'utf8');
      if (f.endsWith('.sources')) out.push(...parseDeb822Sources(text));
      else if (f.endsWith('.list')) out.push(...parseOneLineSources(text));
    }
  }
  return out;
}

/** The configured Debian mirror for `suite`, or an EnvironmentError that says how to set one. */
export function configuredMirror(suite = 'bookworm', root = '/etc/apt'): string {
  const uri = pickMirror(readAptSources(root), suite);
  if (!uri) {
    throw new EnvironmentError(
      `no apt source for Debian ${suite} main in ${root}/sources.list(.d)`,
      'pass --mirror URL (e.g. http://deb.debian.org/debian or your local mirror)',
    );
  }
  return uri;
}
