// One interface per proxy mode (upstream kube-proxy has one Proxier per mode
// behind one interface; containerlab has one folder per node kind). A mode's
// module owns everything that differs between modes, so the daemon, `proxy
// render`, the preflight and the scenario's proxy-rules assertion ask the
// registry (modes.ts) and never compare mode names.
import type { DriverCapabilities, LabNode } from '../cluster/driver.ts';
import type { ProxyMode } from '../k8s/proxy-mode.ts';
import type { EnvironmentError } from '../util/errors.ts';
import type { ProxySettings, ProxyState } from './model.ts';
import type { ProxyBackend } from './proxier.ts';
import type { ExpectedServicePort, ProxyRulesSpec } from './rules-check.ts';
import type { ModeTracer } from './tracer.ts';

/** A full sync's payload: text as the kernel tools read it, and the same as data (`-o json`). */
export interface RenderedPayload {
  text: string;
  data: unknown;
}

export interface RenderOptions {
  /** The node's `iptables-save` output: stale kube-proxy chains found there are deleted (iptables mode). */
  existingIptablesSave?: string;
}

/** How the daemon starts a backend (flags of `svclab daemon proxy`). */
export interface BackendOptions {
  iptablesBackend: 'nft' | 'legacy';
  log: (line: string) => void;
  /** VM nodes have a kernel of their own: IPVS mode may modprobe ip_vs/dummy. */
  loadModules?: boolean;
}

/**
 * What a mode's host check asks of the driver (src/cluster's DriverCapabilities):
 * VMs boot their own kernel and image, so only nodes that share this machine's
 * kernel and programs are checked here.
 */
export type ModeHost = Pick<DriverCapabilities, 'sharesHostKernel' | 'needsHostTools' | 'hasIPVS'>;

export interface ProxyModeModule {
  readonly name: ProxyMode;
  /** What `proxy render --mode <name>` prints, for help texts. */
  readonly renders: string;
  /** Upstream's nftables proxier also watches ServiceCIDRs (its service-cidrs set); the others do not. */
  readonly watchesServiceCIDRs: boolean;
  /** The pure render of a full sync (no host touched), for `svclab proxy render` and dry runs. */
  render(state: ProxyState, settings: ProxySettings, opts?: RenderOptions): RenderedPayload;
  /** The backend that applies renders inside a node (imported lazily: the daemon loads only its own mode). */
  createBackend(settings: ProxySettings, opts: BackendOptions): Promise<ProxyBackend>;
  /** Why this host cannot run the mode (what is missing and what to do), or undefined if it can. */
  hostError(host: ModeHost): Promise<EnvironmentError | undefined>;
  /**
   * Reads the node's kernel state back and checks the service port is (or, with
   * spec.absent, is no longer) programmed; throws CheckFailed, else returns a
   * one-line summary. `former` is the port as an earlier check saw it (IPVS
   * keeps addresses, not names, so "absent" needs the old ClusterIP).
   */
  checkRules(node: LabNode, spec: ProxyRulesSpec, want: ExpectedServicePort | undefined, former?: ExpectedServicePort): Promise<string>;
  /** `svclab trace`: what this mode adds to the one traced connection (monitors, counters, where it went). */
  readonly tracer: ModeTracer;
}
