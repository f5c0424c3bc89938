#!/usr/bin/env bash
# Installs what svclab needs on a fresh Debian 12 / Ubuntu machine: Debian's
# packages for the netns driver and the workloads, then the npm dependencies
# (which builds dist/svclab.mjs). Idempotent; run as root.
#
#   sudo bash scripts/setup.sh           netns driver (the default)
#   sudo bash scripts/setup.sh --vms     also qemu/libvirt/debootstrap for --driver libvirt
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "setup.sh: run as root (apt-get, and labs create network namespaces)" >&2
  exit 2
fi

# Why each package:
#   iproute2 kmod procps psmisc util-linux  namespaces, links, sysctls, nsenter/unshare
#   iptables nftables ipset ipvsadm conntrack  the proxy modes' kernel tools
#   containernetworking-plugins   the CNI plugins (bridge, host-local, loopback)
#   mariadb-server mariadb-client the database lab's pods and client
#   nginx-light                   the web lab's pods
#   dnsmasq-base                  cluster DNS (the kube-dns Service's backend)
#   curl                          HTTP checks from pods, nodes and the external client
#   openssl                       the lab's PKI (CA, apiserver serving and admin client certificates)
#   wrk                           the mode benchmark's load generator (bench/modes.ts): requests/s and
#                                 p50/p99 latency from a C client, so the client's own cost stays out
#   nodejs npm                    only if this machine has no Node >= 18 yet
packages=(iproute2 kmod procps psmisc util-linux iptables nftables ipset ipvsadm conntrack
  containernetworking-plugins mariadb-server mariadb-client nginx-light dnsmasq-base curl openssl wrk)
command -v node >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Packages like mariadb-server and nginx start their services from postinst;
  # svclab runs them only inside lab pods, so stop that for this install.
  policy=/usr/sbin/policy-rc.d
  made_policy=0
  if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; made_policy=1; fi
  trap '[[ $made_policy == 1 ]] && rm -f "$policy"' EXIT
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ${1:-} == --vms ]]; then
  bash scripts/setup-vm-host.sh
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
echo "setup: done"
