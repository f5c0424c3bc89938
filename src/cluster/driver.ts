// The line below which a node is a namespace or a VM. Everything above this
// contract (CNI, control plane, proxy, workloads, scenarios, CLI verbs) is
// driver-agnostic: it runs commands in nodes, starts daemons there, and asks a
// driver what it can do (its capabilities), never which driver it is — as
// kind's node providers answer `Info()` with a ProviderInfo.
import type { ExecOptions, ExecResult } from '../util/exec.ts';

export interface LabNode {
  /** Node name, e.g. "node-01"; "external" for the external client. */
  readonly name: string;
  /** Address on the node network. */
  readonly ip: string;
  /** Runs argv inside the node (its network namespace / its VM). */
  exec(argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  /**
   * Starts a long-lived process inside the node, detached from the caller
   * (it outlives `svclab up`), stdout+stderr appended to `logFile` (a path as
   * the node sees it). Returns its pid as the node sees it.
   */
  startDaemon(argv: string[], logFile: string, env?: Record<string, string>): Promise<number>;
  /** Writes a file inside the node (creating parent directories). */
  writeFile(path: string, content: string, mode?: number): Promise<void>;
  /** Reads a file inside the node; undefined if it does not exist. */
  readFile(path: string): Promise<string | undefined>;
}

export interface DriverProgress {
  (phase: string, detail?: string): void;
}

/** The nodes of a running lab, as a driver hands them out. */
export interface LabNodes {
  nodes: LabNode[];
  external: LabNode;
}

/** Every driver's name, as `--driver` and lab.json spell it. */
export type DriverName = 'netns' | 'libvirt';

/**
 * What a driver needs of a lab's layout. The lab loader's LabLayout has all
 * of it (and more), so the lifecycle hands that over as it is.
 */
export interface DriverLayout {
  readonly name: string;
  /** The node network, e.g. "192.168.49.0/24". */
  readonly nodeNetwork: string;
  /** Its gateway, on the lab's bridge, e.g. "192.168.49.1". */
  readonly gateway: string;
  readonly nodes: readonly { name: string; ip: string; podCIDR: string }[];
  /** The external client: on the node network, not a Kubernetes node. */
  readonly external: { name: string; ip: string };
}

/**
 * What a driver's nodes are like, for every decision above src/cluster that
 * used to ask for the driver's name.
 */
export interface DriverCapabilities {
  /**
   * Nodes run on this host's kernel (namespaces). Kernel modules are then
   * host-wide: a node's kube-proxy never modprobes, and which proxy modes work
   * depends on this host's kernel. VMs boot their own kernel and load modules.
   */
  readonly sharesHostKernel: boolean;
  /**
   * Pods run this host's programs (nginx, MariaDB, dnsmasq, curl, nsenter):
   * preflight checks they are installed here. VMs carry their own (the base image).
   */
  readonly needsHostTools: boolean;
  /**
   * Nodes see this host's filesystem: their logs and state are files here.
   * A VM's logs are inside the VM (`svclab exec NODE -- cat …`).
   */
  readonly sharesHostFilesystem: boolean;
  /**
   * This host reaches the apiserver's socket directly (a path socket crosses
   * network namespaces). Otherwise `forward()` relays it into the node network.
   */
  readonly hostReachesNodeNetwork: boolean;
  /**
   * `down` finds every leftover of a lab by its name alone (namespaces named
   * svclab-<lab>-…), so it runs even when no record says which driver made
   * the lab. Such a sweep kills whatever runs in the lab's namespaces (qemu
   * too), so it runs after the other drivers' `down`.
   */
  readonly sweepsByName: boolean;
  /**
   * Nodes outlive the lab (VMs are resources of their own, e.g. in the Pulumi
   * stack): `down --keep-nodes` stops the lab and leaves them. A netns node is
   * nothing without its lab, so such a lab is only removed whole.
   */
  readonly nodesOutliveLab: boolean;
  /**
   * How much slower than a namespace a node starts programs (TCG VMs: several
   * seconds of CPU per Node process); the lifecycle scales its waits by it. 1 = as fast as the host.
   */
  readonly timeScale: number;
  /**
   * Does the nodes' kernel have IPVS? Netns asks this host's kernel
   * (/proc/net/ip_vs, or an ip_vs module to load); the VM image ships
   * Debian's kernel, which has it. A probe, so only ipvs-mode labs pay for it.
   */
  hasIPVS(): Promise<boolean>;
}

/**
 * The driver contract (netns or libvirt): both drivers `implements` it, and
 * the registry (drivers.ts) hands it out without a cast.
 */
export interface LabDriver {
  readonly name: DriverName;
  readonly capabilities: DriverCapabilities;
  /** Throws EnvironmentError if this machine cannot run the driver (not root, missing tool or kernel feature). */
  preflight(): Promise<void>;
  /** Creates the node network and nodes; `progress` names sub-steps. */
  up(layout: DriverLayout, progress?: DriverProgress): Promise<LabNodes>;
  /** The nodes of a lab that is already up. */
  attach(layout: DriverLayout): Promise<LabNodes>;
  /** Removes everything of the lab, also after a half-finished up. Returns a one-line summary. */
  down(lab: string): Promise<string>;
  /** Is anything of this lab present on the machine? */
  exists(lab: string): Promise<boolean>;
  /** The node program and the svclab bundle as nodes see them. */
  runtime(): { nodeBin: string; bundle: string };
  /**
   * Makes host:port on the node network reachable from this host as the unix
   * socket `socketPath`, kept alive by later attach() calls and removed by
   * down(). Required rather than optional so callers never ask which driver
   * they hold: where the host reaches the node network already
   * (capabilities.hostReachesNodeNetwork), it does nothing.
   */
  forward(layout: DriverLayout, socketPath: string, host: string, port: number): Promise<void>;
  /** Ends what forward() started for `lab` (down does it too); nothing where forward() did nothing. */
  unforward(lab: string): Promise<void>;
}
