// What a mode's rule read-back is asked to confirm: a scenario's proxy-rules
// assertion (the spec, as the lab file writes it) and the service port the API
// says should be programmed. Each mode reads its own kernel state and checks
// it against these (src/proxy/<mode>/rules-check.ts).

/** A proxy-rules assertion as a lab file's scenario writes it. */
export interface ProxyRulesSpec {
  service: string;
  namespace?: string;
  port?: number;
  endpoints?: number;
  absent?: boolean;
  nodes?: string[];
  nodePort?: boolean;
}

/** One service port as the control plane sees it: what the kernel rules should implement. */
export interface ExpectedServicePort {
  ns: string;
  name: string;
  /** ServicePortName.String(): ns/name or ns/name:portName */
  key: string;
  clusterIP: string;
  port: number;
  protocol: string;
  nodePort: number;
  externalTrafficPolicy: string;
  /** ready endpoint IPs from the API, with the target port */
  endpoints: { ip: string; port: number; nodeName: string }[];
}
