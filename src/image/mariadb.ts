// MariaDB facts the base image bakes and the kubelet reuses: the server's
// small-footprint flags, the mariadb-install-db argv, and where the image keeps
// the datadir template it made. They live here, below both, so the image build
// takes them as data and never imports the workloads layer above it.

/** Small enough that 4–6 servers share a 2-core, few-GB box. */
export const MARIADB_SMALL = [
  '--innodb-buffer-pool-size=16M',
  '--innodb-log-file-size=4M',
  '--innodb-log-buffer-size=1M',
  '--performance-schema=off',
  '--key-buffer-size=1M',
  '--aria-pagecache-buffer-size=1M',
  '--max-connections=32',
  '--table-open-cache=64',
  '--table-definition-cache=400',
  '--thread-cache-size=2',
  '--skip-innodb-adaptive-hash-index',
];

/** mariadb-install-db for the template datadir; --no-defaults keeps /etc/mysql out of it. */
export function mariadbInstallArgv(datadir: string): string[] {
  return [
    'mariadb-install-db',
    '--no-defaults',
    '--user=root',
    `--datadir=${datadir}`,
    '--skip-test-db',
    '--auth-root-authentication-method=normal',
    '--skip-name-resolve',
    ...MARIADB_SMALL,
  ];
}

/**
 * A template made at image build time (`svclab image build` runs
 * mariadb-install-db in the chroot): on a TCG VM the install costs tens of
 * seconds of emulated CPU on every node that runs a database pod.
 */
export const IMAGE_MARIADB_TEMPLATE = '/usr/local/share/svclab/mariadb-datadir';
