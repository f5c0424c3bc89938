#!/usr/bin/env bash
# Prepares this machine to run svclab labs on real VMs (driver `libvirt`) and to
# build the offline base image. Idempotent; Debian packages only (apt-get).
#
#   sudo scripts/setup-vm-host.sh            install packages, configure and start libvirtd
#   sudo scripts/setup-vm-host.sh --no-start install and configure only
#
# Why each piece:
#   qemu-system-x86, qemu-utils   the VMs (TCG when /dev/kvm is unusable) and qcow2 overlays
#   libvirt-daemon-system/clients libvirtd + virsh for the Pulumi path (domains, volumes, networks)
#   debootstrap                   builds the Debian 12 root file system from the apt mirror
#   e2fsprogs                     `mkfs.ext4 -d DIR` turns that tree into a raw ext4 image
#                                 without loop devices or partition tables: the Debian kernel
#                                 is booted directly (qemu -kernel/-initrd, root=/dev/vda)
#   debian-archive-keyring        debootstrap verifies the mirror's Release file
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "setup-vm-host.sh: run as root (apt-get and libvirtd need it)" >&2
  exit 2
fi

start=1
[[ ${1:-} == --no-start ]] && start=0

packages=(qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-clients debootstrap e2fsprogs debian-archive-keyring)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # --no-install-recommends keeps out dnsmasq/ovmf/… that svclab does not use.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# libvirtd's default (qemu runs as user libvirt-qemu, with DAC relabelling of every
# file) takes ~50 s per define on machines like this one; running qemu as root
# avoids that. svclab's images live under /var/lib/svclab and /var/cache/svclab.
conf=/etc/libvirt/qemu.conf
if [[ -f $conf ]] && ! grep -q '^user = "root"' "$conf"; then
  printf '\n# svclab: run qemu as root (see scripts/setup-vm-host.sh)\nuser = "root"\ngroup = "root"\n' >>"$conf"
  echo "configured $conf: user = \"root\""
  restart_libvirtd=1
fi

# svclab's NIC is a tap in the lab's own network namespace, opened by qemu
# itself (libvirt's <interface> types would create it in the host namespace).
# libvirt gives qemu a private /dev holding only cgroup_device_acl: libvirt's
# default list plus /dev/net/tun.
if [[ -f $conf ]] && ! grep -q '^cgroup_device_acl' "$conf"; then
  printf '%s\n' '# svclab: lab VMs open their tap (in the lab network namespace) themselves' \
    'cgroup_device_acl = [ "/dev/null", "/dev/full", "/dev/zero", "/dev/random", "/dev/urandom", "/dev/ptmx", "/dev/kvm", "/dev/net/tun" ]' >>"$conf"
  echo "configured $conf: /dev/net/tun in cgroup_device_acl"
  restart_libvirtd=1
fi

mkdir -p /var/cache/svclab/images /var/lib/svclab

if ((start)); then
  # No systemd in containers/CI: start the daemons directly when they are not running.
  # What libvirtd needs is virtlogd's socket: a virtlogd still shutting down shows in pgrep but
  # serves nothing, so wait for it to go and start a new one.
  if [[ ! -S /run/libvirt/virtlogd-sock ]]; then
    for _ in $(seq 50); do pgrep -x virtlogd >/dev/null || break; sleep 0.2; done
    pgrep -x virtlogd >/dev/null || virtlogd -d
  fi
  if [[ ${restart_libvirtd:-0} == 1 ]] && pgrep -x libvirtd >/dev/null; then
    if [[ -d /run/systemd/system ]]; then
      systemctl restart libvirtd
    elif [[ -f /run/libvirtd.pid ]]; then
      # Started by hand (no systemd): stop that one daemon by its pid file; started again below.
      kill "$(cat /run/libvirtd.pid)"
      for _ in $(seq 50); do pgrep -x libvirtd >/dev/null || break; sleep 0.2; done
    fi
  fi
  if ! pgrep -x libvirtd >/dev/null; then libvirtd -d; fi
  for _ in $(seq 50); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.2; done
  virsh -c qemu:///system version | head -3 || true
fi

if [[ -r /dev/kvm ]] && [[ -w /dev/kvm ]]; then
  echo "/dev/kvm present: svclab probes it before using kvm (falls back to TCG)"
else
  echo "/dev/kvm absent: VMs run under TCG (slower, fine for 3 small nodes)"
fi
