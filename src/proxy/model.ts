// The proxy's view of the cluster, as upstream kube-proxy builds it from
// Services and EndpointSlices (pkg/proxy/serviceport.go, endpoint.go,
// topology.go). Every mode renders from these; nothing here touches the host.
// Types only (and the key and defaults that belong to them): the functions that
// build these values live in service-ports.ts, endpoints.ts, topology.ts and
// proxy-state.ts, and import from here, never the other way round.

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** Upstream's ServicePortName: namespace/name:port + protocol. The universal key. */
export interface ServicePortName {
  namespace: string;
  name: string;
  /** The port's name; "" for an unnamed port. */
  port: string;
  protocol: Protocol;
}

/** Upstream ServicePortName.String(): "ns/name:port" (":port" only when the port is named). */
export function servicePortKey(name: ServicePortName): string {
  return `${name.namespace}/${name.name}${name.port ? `:${name.port}` : ''}`;
}

/** One port of one Service, with what every mode needs (upstream's BaseServicePortInfo). */
export interface ServicePortInfo {
  name: ServicePortName;
  /** "ns/name:port" (":port" only if named) — upstream ServicePortName.String(). */
  key: string;
  clusterIP: string; // normalised ("10.180.00.001" -> "10.180.0.1"); "" if none
  port: number;
  protocol: Protocol;
  nodePort: number; // 0 if none
  externalIPs: string[]; // normalised, this IP family only
  loadBalancerVIPs: string[]; // status.loadBalancer.ingress[].ip, normalised
  loadBalancerSourceRanges: string[]; // CIDRs, normalised
  sessionAffinityClientIP: boolean;
  stickyMaxAgeSeconds: number; // default 10800
  externalPolicyLocal: boolean; // externalTrafficPolicy: Local (and the service is externally accessible)
  internalPolicyLocal: boolean; // internalTrafficPolicy: Local
  healthCheckNodePort: number; // 0 if none
  /** True when the Service has NodePort / externalIPs / LB VIPs. */
  externallyAccessible: boolean;
}

/** One endpoint of a service port (upstream's BaseEndpointInfo). */
export interface EndpointInfo {
  ip: string; // normalised
  port: number;
  /** "ip:port" or "[ip]:port". */
  endpoint: string;
  nodeName: string;
  zone: string;
  isLocal: boolean; // nodeName === this node's name
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

/** Settings that change what a proxy renders (from KubeProxyConfiguration and host detection). */
export interface ProxySettings {
  nodeName: string;
  /** Every address of the node (what kube-proxy reads from its interfaces). */
  nodeIPs: string[];
  /** Empty string => no local-traffic detector (upstream's no-op detector). */
  clusterCIDR: string;
  masqueradeAll: boolean;
  masqueradeBit: number; // default 14
  localhostNodePorts: boolean; // default true (iptables only)
  /** nodePortAddresses: CIDRs or the special "primary"; empty = all. */
  nodePortAddresses: string[];
  conntrackTCPBeLiberal: boolean;
  /** Host capabilities kube-proxy probes for. */
  hasNfacct: boolean;
  randomFully: boolean;
  /** Large-cluster threshold (endpoints); upstream: 1000. */
  largeClusterEndpointsThreshold: number;
  /** IPVS only */
  ipvsScheduler?: string;
}

export const DEFAULT_SETTINGS: Omit<ProxySettings, 'nodeName' | 'nodeIPs'> = {
  clusterCIDR: '',
  masqueradeAll: false,
  masqueradeBit: 14,
  localhostNodePorts: true,
  nodePortAddresses: [],
  conntrackTCPBeLiberal: false,
  hasNfacct: false,
  randomFully: false,
  largeClusterEndpointsThreshold: 1000,
  ipvsScheduler: 'rr',
};

/** The whole input of a render: a pure function of this (plus settings). */
export interface ProxyState {
  /** key -> service port */
  services: Map<string, ServicePortInfo>;
  /** key -> endpoints of that service port (all of them, ready or not) */
  endpoints: Map<string, EndpointInfo[]>;
  /** ServiceCIDRs known to the proxy (nftables drops unallocated IPs in them). */
  serviceCIDRs: string[];
}

/** What upstream's CategorizeEndpoints (topology.go) returns: the endpoints each kind of traffic uses. */
export interface CategorizedEndpoints {
  clusterEndpoints: EndpointInfo[];
  localEndpoints: EndpointInfo[];
  allReachableEndpoints: EndpointInfo[];
  hasAnyEndpoints: boolean;
}
