// The line below which a node is a namespace or a VM. Everything above this
// interface (CNI, control plane, proxy, workloads, scenarios, CLI verbs) is
// driver-agnostic: it only runs commands in nodes and starts daemons there.
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

export interface Driver {
  readonly name: 'netns' | 'libvirt';
  /** Throws EnvironmentError if this machine cannot run the driver (not root, missing tool or kernel feature). */
  preflight(): Promise<void>;
}

/** The nodes of a running lab, as a driver hands them out. */
export interface LabNodes {
  nodes: LabNode[];
  external: LabNode;
}

/** What the lifecycle needs from a driver (netns or libvirt). */
export interface LabDriver extends Driver {
  /** Creates the node network and nodes; `progress` names sub-steps. */
  up(layout: import('../lab/load.ts').LabLayout, progress?: DriverProgress): Promise<LabNodes>;
  /** The nodes of a lab that is already up. */
  attach(layout: import('../lab/load.ts').LabLayout): Promise<LabNodes>;
  /** Removes everything of the lab, also after a half-finished up. Returns a one-line summary. */
  down(lab: string): Promise<string>;
  /** Is anything of this lab present on the machine? */
  exists(lab: string): Promise<boolean>;
  /** The node program and the svclab bundle as nodes see them. */
  runtime(): { nodeBin: string; bundle: string };
  /**
   * How much slower than netns this driver's nodes start programs (TCG VMs:
   * several seconds of CPU per Node process); the lifecycle scales its waits by it. Default 1.
   */
  readonly timeScale?: number;
  /**
   * Makes host:port on the node network reachable from this host as the unix
   * socket `socketPath`, for drivers whose node network the host cannot route
   * to (VMs). Kept alive by later attach() calls; removed by down().
   */
  forward?(layout: import('../lab/load.ts').LabLayout, socketPath: string, host: string, port: number): Promise<number>;
  /** Ends what forward() started for `lab` (down does it too). */
  unforward?(lab: string): Promise<void>;
}
