// The driver contract holds: both drivers are LabDrivers as the compiler sees
// them (no cast anywhere), their capabilities say what the code above
// src/cluster relies on, and nothing above src/cluster decides on a driver's
// name or reaches into a driver's own folder.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import type { DriverCapabilities, LabDriver } from '../../src/cluster/driver.ts';
import { DRIVERS, getDriver } from '../../src/cluster/drivers.ts';
import { NETNS_CAPABILITIES, NetnsDriver } from '../../src/cluster/netns/driver.ts';
import { LIBVIRT_CAPABILITIES, LibvirtDriver } from '../../src/cluster/libvirt/driver.ts';
import { importGraph, sourceFiles } from '../architecture/import-graph.ts';

// Compile-time: an assignment without a cast fails `npm run typecheck` if a
// driver drifts from the contract.
const netns: LabDriver = new NetnsDriver();
const libvirt: LabDriver = new LibvirtDriver();

test('the registry hands out each driver under its own name', async () => {
  for (const name of DRIVERS) assert.is((await getDriver(name)).name, name);
  assert.is(netns.name, 'netns');
  assert.is(libvirt.name, 'libvirt');
});

test('netns nodes are namespaces on this host: its kernel, programs, files and sockets, nothing to scale', () => {
  const caps: DriverCapabilities = netns.capabilities;
  assert.is(caps, NETNS_CAPABILITIES);
  assert.equal(
    { ...caps, hasIPVS: undefined },
    {
      sharesHostKernel: true, needsHostTools: true, sharesHostFilesystem: true, hostReachesNodeNetwork: true,
      sweepsByName: true, nodesOutliveLab: false, timeScale: 1, hasIPVS: undefined,
    },
  );
});

test('libvirt nodes are VMs: own kernel with ip_vs, own image, behind a forwarder, slower, and they outlive the lab', async () => {
  const caps: DriverCapabilities = libvirt.capabilities;
  assert.is(caps, LIBVIRT_CAPABILITIES);
  assert.equal(
    { ...caps, timeScale: undefined, hasIPVS: undefined },
    {
      sharesHostKernel: false, needsHostTools: false, sharesHostFilesystem: false, hostReachesNodeNetwork: false,
      sweepsByName: false, nodesOutliveLab: true, timeScale: undefined, hasIPVS: undefined,
    },
  );
  assert.ok(caps.timeScale > 1, `timeScale ${caps.timeScale}`);
  assert.is(await caps.hasIPVS(), true);
});

test('exactly one driver sweeps by name, so `down` without a record always has one', () => {
  assert.equal([netns, libvirt].filter((d) => d.capabilities.sweepsByName).map((d) => d.name), ['netns']);
});

test('the netns driver has nothing to forward: the API socket is on this host already', async () => {
  await netns.forward({ name: 'lab', nodeNetwork: '192.168.49.0/24', gateway: '192.168.49.1', nodes: [], external: { name: 'external', ip: '192.168.49.254' } }, '/nonexistent/api.sock', '192.168.49.2', 6443);
  await netns.unforward('lab');
});

// A decision on a driver's name: a comparison with or a `case` of a driver's
// name, or a comparison of anything called driver / driver.name. Printing
// `driver.name` is fine.
const NAMES = DRIVERS.join('|');
const DECISIONS = [
  new RegExp(`[!=]==?\\s*['"\`](${NAMES})['"\`]`),
  new RegExp(`['"\`](${NAMES})['"\`]\\s*[!=]==?`),
  new RegExp(`case\\s+['"\`](${NAMES})['"\`]`),
  /\bdriver(\.name)?\s*[!=]==?/,
  /[!=]==?\s*[\w.]*\bdriver(\.name)?\b(?!\.)/,
];

test('no file outside src/cluster decides on a driver name', () => {
  const found: string[] = [];
  for (const file of sourceFiles('src')) {
    if (file.startsWith('src/cluster/')) continue;
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      if (DECISIONS.some((re) => re.test(line))) found.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.equal(found, []);
});

test('the scan does catch a decision on the name', () => {
  for (const line of ["if (driver.name !== 'netns') return;", "const x = running.driver.name === 'libvirt';", "case 'netns':", "if ('libvirt' === rec.driver)"]) {
    assert.ok(DECISIONS.some((re) => re.test(line)), line);
  }
  assert.not.ok(DECISIONS.some((re) => re.test("console.log(`${driver.name} driver`);")));
});

test('above src/cluster only the contract, the registry and common/ are imported, never a driver folder', () => {
  const found: string[] = [];
  for (const [file, targets] of importGraph('src').edges) {
    if (file.startsWith('src/cluster/')) continue;
    for (const t of targets) if (/^src\/cluster\/(netns|libvirt)\//.test(t)) found.push(`${file} → ${t}`);
  }
  assert.equal(found, []);
});

test('no cast around the drivers', () => {
  for (const file of sourceFiles('src/cluster')) {
    const text = readFileSync(file, 'utf8');
    assert.not.ok(/as unknown as|as never\b/.test(text), file);
  }
});

test.run();
