// Entry of the Pulumi program (Pulumi.yaml: main). Reads the stack config
// (stacks/Pulumi.<stack>.yaml), loads the lab file with svclab's own loader,
// and declares the lab (program.ts).
//
//   svclab:lab        lab file, relative to the repository root
//   svclab:libvirtUri libvirt connection (default qemu:///system)
//   svclab:image      base image file (default: the cached `svclab image build`)
//   svclab:memoryMiB  per VM (default 320)
//   svclab:vcpus      per VM (default 1)
//   svclab:mode       proxy mode, overriding the lab file's (iptables, nftables, ipvs, userspace)
//   svclab:backend    libvirt (default) or qemu (no libvirtd: qemu started directly)
//   svclab:libvirtNetwork / svclab:libvirtBridge  plug the VMs into this host's libvirt
//                     network or bridge instead of the lab's own isolated bridge
import * as pulumi from '@pulumi/pulumi';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { loadLab } from '../src/lab/load.ts';
import { labStack } from './program.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const config = new pulumi.Config('svclab');
const labFile = resolve(root, config.require('lab'));
const lab = await loadLab(labFile);
const bundle = join(root, 'dist', 'svclab.mjs');
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

const net = config.get('libvirtNetwork');
const bridge = config.get('libvirtBridge');
const nic = net ? { kind: 'network' as const, name: net } : bridge ? { kind: 'bridge' as const, name: bridge } : undefined;

const out = labStack({
  nic,
  labFile,
  labSha256: sha256(labFile),
  layout: {
    lab: lab.name,
    nodeNetwork: lab.layout.nodeNetwork,
    gateway: lab.layout.gateway,
    nodes: lab.layout.nodes,
    external: lab.layout.external,
  },
  mode: config.get('mode') ?? lab.layout.proxyMode,
  uri: config.get('libvirtUri') ?? 'qemu:///system',
  image: config.get('image') ?? '',
  memoryMiB: config.getNumber('memoryMiB') ?? 320,
  vcpus: config.getNumber('vcpus') ?? 1,
  backend: (config.get('backend') as 'libvirt' | 'qemu' | undefined) ?? 'libvirt',
  bundle,
  bundleSha256: sha256(bundle),
  svclab: [process.execPath, bundle],
  argvRunner: [process.execPath, join(root, 'stacks', 'argv.mjs')],
});

export const nodeIps = out.nodeIps;
export const serviceIps = out.serviceIps;
export const scenario = out.scenario;
export const domains = out.domains;
