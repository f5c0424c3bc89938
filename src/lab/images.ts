// The image catalogue: which local program stands in for a container image.
// Pure data. Only the repository part counts ("docker.io/library/nginx:1.27"
// and "nginx@sha256:..." are both nginx), so manifests pasted from the docs work.

/** nginx → Debian's nginx; mariadb → MariaDB server; netexec → our echo server
 * (hostname, client IP); dns → the cluster DNS; shell → a client that runs its command. */
export type ImageKind = 'nginx' | 'mariadb' | 'netexec' | 'dns' | 'shell';

interface ImagePattern {
  /** Human form for messages, e.g. "mariadb*". */
  pattern: string;
  kind: ImageKind;
  test(repo: string): boolean;
}

// Matching looks at the path after the registry host, so any registry
// (docker.io, registry.k8s.io, k8s.gcr.io, a local mirror) and any tag work.
function byName(pattern: string, kind: ImageKind, namePrefix: string, owner?: string): ImagePattern {
  return {
    pattern, kind,
    test(repo) {
      const parts = stripRegistry(repo).split('/');
      const name = parts[parts.length - 1];
      return name.startsWith(namePrefix) && (owner === undefined || parts[parts.length - 2] === owner);
    },
  };
}
const containing = (word: string, kind: ImageKind): ImagePattern =>
  ({ pattern: `*${word}*`, kind, test: (repo) => stripRegistry(repo).includes(word) });

/** In the order they are tried. */
export const IMAGE_PATTERNS: readonly ImagePattern[] = [
  byName('nginx*', 'nginx', 'nginx'),
  byName('mariadb*', 'mariadb', 'mariadb'),
  byName('mysql*', 'mariadb', 'mysql'),
  byName('registry.k8s.io/e2e-test-images/agnhost*', 'netexec', 'agnhost'),
  containing('netexec', 'netexec'),
  containing('echoserver', 'netexec'),
  byName('registry.k8s.io/coredns/coredns*', 'dns', 'coredns', 'coredns'),
  byName('coredns*', 'dns', 'coredns'),
  byName('busybox*', 'shell', 'busybox'),
  byName('alpine*', 'shell', 'alpine'),
  byName('curlimages/curl*', 'shell', 'curl', 'curlimages'),
  byName('debian*', 'shell', 'debian'),
  byName('ubuntu*', 'shell', 'ubuntu'),
];

/** The patterns, for "unknown image" messages. */
export const KNOWN_IMAGES: readonly string[] = IMAGE_PATTERNS.map((p) => p.pattern);

/** "docker.io/library/nginx:1.27@sha256:..." -> "docker.io/library/nginx". */
export function imageRepository(image: string): string {
  let s = image.trim().toLowerCase();
  const at = s.indexOf('@');
  if (at >= 0) s = s.slice(0, at);
  // A tag is a ':' after the last '/', so "host:5000/nginx" keeps its port.
  const colon = s.lastIndexOf(':');
  if (colon > s.lastIndexOf('/')) s = s.slice(0, colon);
  return s;
}

// Drops a leading registry host ("docker.io/", "localhost:5000/") so
// "docker.io/curlimages/curl" matches "curlimages/curl*".
function stripRegistry(repo: string): string {
  const slash = repo.indexOf('/');
  if (slash < 0) return repo;
  const head = repo.slice(0, slash);
  const isHost = head.includes('.') || head.includes(':') || head === 'localhost';
  return isHost ? repo.slice(slash + 1) : repo;
}

export function resolveImage(image: string): ImageKind | undefined {
  const repo = imageRepository(image);
  if (!repo) return undefined;
  return IMAGE_PATTERNS.find((p) => p.test(repo))?.kind;
}
