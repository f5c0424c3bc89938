// One VM as plain data, and the two ways to start it: a qemu argv (the
// embedded path: qemu run directly inside the lab's network namespace) and a
// libvirt domain XML (the libvirt path: libvirtd runs the same qemu through an
// emulator wrapper that enters the namespace). Pure: tests read the exact
// command line and XML; nothing here touches the host.
import { INIT_PATH, AGENT_PORT } from '../../image/guest-init.ts';
import type { VmPaths } from './names.ts';
import { METADATA_NS } from './names.ts';
import { EnvironmentError } from '../../util/errors.ts';

export interface VmSpec {
  lab: string;
  node: string;
  /** libvirt domain name / qemu -name. */
  domain: string;
  memoryMiB: number;
  vcpus: number;
  /** 'kvm' where /dev/kvm works, else TCG ('qemu' in libvirt's words). */
  accel: 'kvm' | 'tcg';
  /** TCG translation cache (MiB): qemu's default is 1 GiB per VM on 64-bit hosts. */
  tbCacheMiB: number;
  /** qemu CPU model under TCG (kvm always uses host). */
  cpuModel: string;
  kernel: string;
  initrd: string;
  /** Address with prefix on eth0, e.g. "192.168.49.2/24", and the gateway. */
  ip: string;
  gateway: string;
  tap: string;
  mac: string;
  /**
   * Where eth0 plugs in: the tap in the lab's namespace (default), or a
   * libvirt network / host bridge that a training team's libvirt host
   * provides (libvirt backend only; the external client is then not on it).
   */
  nic?: { kind: 'network' | 'bridge'; name: string };
  paths: VmPaths;
}

/** The kernel command line: root on the whole virtio disk, our init, per-VM settings. */
export function kernelCmdline(spec: VmSpec): string {
  return [
    'root=/dev/vda', 'rw', 'rootfstype=ext4', 'console=ttyS0,115200', `init=${INIT_PATH}`, 'quiet', 'panic=-1',
    'net.ifnames=0', 'mitigations=off', 'tsc=reliable',
    `svclab.lab=${spec.lab}`, `svclab.hostname=${spec.node}`, `svclab.ip=${spec.ip}`, `svclab.gw=${spec.gateway}`,
  ].join(' ');
}

/** qemu argv for the embedded path (run inside the lab's network namespace). */
export function qemuArgv(spec: VmSpec, qemu = 'qemu-system-x86_64'): string[] {
  if (spec.nic) throw new EnvironmentError(`${spec.node}: a libvirt ${spec.nic.kind} (${spec.nic.name}) needs the libvirt backend`);
  const accel = spec.accel === 'kvm' ? 'kvm' : `tcg,tb-size=${spec.tbCacheMiB}`;
  return [
    qemu,
    '-name', `guest=${spec.domain},process=${spec.domain}`,
    '-machine', 'pc', '-accel', accel, '-cpu', spec.accel === 'kvm' ? 'host' : spec.cpuModel,
    '-smp', String(spec.vcpus), '-m', String(spec.memoryMiB),
    '-nodefaults', '-no-user-config', '-display', 'none', '-vga', 'none', '-no-reboot',
    '-kernel', spec.kernel, '-initrd', spec.initrd, '-append', kernelCmdline(spec),
    '-drive', `file=${spec.paths.disk},if=virtio,format=qcow2,cache=unsafe,discard=unmap`,
    '-netdev', `tap,id=net0,ifname=${spec.tap},script=no,downscript=no`,
    '-device', `virtio-net-pci,netdev=net0,mac=${spec.mac}`,
    '-device', 'virtio-serial-pci,id=vser0',
    '-chardev', `socket,id=agent,path=${spec.paths.agentSocket},server=on,wait=off`,
    '-device', `virtserialport,bus=vser0.0,chardev=agent,name=${AGENT_PORT}`,
    '-chardev', `socket,id=console,path=${spec.paths.consoleSocket},server=on,wait=off,logfile=${spec.paths.consoleLog}`,
    '-serial', 'chardev:console',
    '-qmp', `unix:${spec.paths.qmpSocket},server=on,wait=off`,
    '-pidfile', spec.paths.pidFile, '-daemonize',
  ];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');

/**
 * libvirt domain XML. The NIC is a tap in the lab's namespace: libvirt's own
 * <interface> types would create it in the host's namespace, so the netdev is
 * passed through <qemu:commandline> and `emulator` is a wrapper that starts
 * qemu inside the namespace.
 */
export function domainXml(spec: VmSpec, emulator: string): string {
  const type = spec.accel === 'kvm' ? 'kvm' : 'qemu';
  const tcg = spec.accel === 'kvm' ? '' : `\n    <tcg>\n      <tb-cache unit='MiB'>${spec.tbCacheMiB}</tb-cache>\n    </tcg>`;
  return `<domain type='${type}' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>${esc(spec.domain)}</name>
  <metadata>
    <svclab:vm xmlns:svclab='${METADATA_NS}' lab='${esc(spec.lab)}' node='${esc(spec.node)}'/>
  </metadata>
  <memory unit='MiB'>${spec.memoryMiB}</memory>
  <vcpu>${spec.vcpus}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${esc(spec.kernel)}</kernel>
    <initrd>${esc(spec.initrd)}</initrd>
    <cmdline>${esc(kernelCmdline(spec))}</cmdline>
  </os>
  <features>
    <acpi/>${tcg}
  </features>
  ${cpuXml(spec)}
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>${esc(emulator)}</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='unsafe' discard='unmap'/>
      <source file='${esc(spec.paths.disk)}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <controller type='virtio-serial' index='0'/>
    <channel type='unix'>
      <source mode='bind' path='${esc(spec.paths.agentSocket)}'/>
      <target type='virtio' name='${AGENT_PORT}'/>
    </channel>
    <serial type='pty'>
      <log file='${esc(spec.paths.consoleLog)}' append='off'/>
      <target port='0'/>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
${interfaceXml(spec)}    <memballoon model='none'/>
  </devices>
${tapCommandline(spec)}</domain>
`;
}

function cpuXml(spec: VmSpec): string {
  if (spec.accel === 'kvm') return `<cpu mode='host-passthrough'/>`;
  if (spec.cpuModel === 'max') return `<cpu mode='maximum' check='none'/>`;
  return `<cpu mode='custom' match='exact' check='none'>\n    <model fallback='forbid'>${esc(spec.cpuModel)}</model>\n  </cpu>`;
}

/** A network or bridge of the user's libvirt host: libvirt makes that tap itself. */
function interfaceXml(spec: VmSpec): string {
  if (!spec.nic) return '';
  const attr = spec.nic.kind === 'network' ? 'network' : 'bridge';
  return `    <interface type='${attr}'>
      <source ${attr}='${esc(spec.nic.name)}'/>
      <mac address='${spec.mac}'/>
      <model type='virtio'/>
    </interface>
`;
}

/** The tap in the lab's namespace, which libvirt does not manage. */
function tapCommandline(spec: VmSpec): string {
  if (spec.nic) return '';
  return `  <!-- libvirt does not know this NIC: a fixed PCI slot keeps it clear of the devices libvirt places. -->
  <qemu:commandline>
    <qemu:arg value='-netdev'/>
    <qemu:arg value='tap,id=svclabnet0,ifname=${esc(spec.tap)},script=no,downscript=no'/>
    <qemu:arg value='-device'/>
    <qemu:arg value='virtio-net-pci,netdev=svclabnet0,mac=${spec.mac},bus=pci.0,addr=0x10'/>
  </qemu:commandline>
`;
}

/** The emulator wrapper libvirt runs instead of qemu: enter the lab's network namespace, then exec qemu. */
export function emulatorWrapper(netns: string, qemu = '/usr/bin/qemu-system-x86_64'): string {
  return [
    '#!/bin/sh',
    "# svclab: libvirt's emulator for lab VMs; qemu must live in the lab's network namespace.",
    "# libvirt gives qemu a private /dev without /dev/net/tun (it adds it only for NICs it",
    '# manages); the node is made in that private /dev, never on the host.',
    '[ -e /dev/net/tun ] || { mkdir -p /dev/net && mknod -m 600 /dev/net/tun c 10 200; }',
    `exec ip netns exec ${netns} ${qemu} "$@"`,
    '',
  ].join('\n');
}
