// Services as `kubectl get svc` shows them: TYPE, CLUSTER-IP, EXTERNAL-IP
// (<none>, <pending> for a LoadBalancer without an address, the name of an
// ExternalName), PORT(S) "80:30007/TCP", and SELECTOR with -o wide. Upstream's
// printService with getServiceExternalIP and makePortString.
import type { KObj } from '../store.ts';
import { FIELD_DOCS } from './field-docs.ts';
import { AGE_COLUMN, NAME_COLUMN, formatLabels, since } from './format.ts';
import { column, type KindPrinter, type PrintedRow } from './types.ts';

interface Port {
  port: number;
  protocol?: string;
  nodePort?: number;
}

function loadBalancerAddresses(svc: KObj): string[] {
  const seen = new Set<string>();
  for (const i of svc.status?.loadBalancer?.ingress ?? []) {
    if (i.ip) seen.add(i.ip);
    else if (i.hostname) seen.add(i.hostname);
  }
  return [...seen];
}

function externalIP(svc: KObj): string {
  const externalIPs: string[] = svc.spec?.externalIPs ?? [];
  switch (svc.spec?.type ?? '') {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerAddresses(svc);
      if (externalIPs.length) return [...lb, ...externalIPs].join(',');
      return lb.length ? lb.join(',') : '<pending>';
    }
    case 'ExternalName':
      return svc.spec?.externalName ?? '';
    default:
      return '<unknown>';
  }
}

/** makePortString: "80/TCP", "80:30007/TCP" once a NodePort is allocated. */
export function servicePorts(ports: Port[] | undefined): string {
  // Printed as stored: the strategy has defaulted the protocol to TCP before anything is stored.
  const text = (ports ?? []).map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? ''}` : `${p.port}/${p.protocol ?? ''}`)).join(',');
  return text || '<none>';
}

function serviceRow(svc: KObj, now: Date): PrintedRow {
  const clusterIP: string = svc.spec?.clusterIPs?.[0] ?? svc.spec?.clusterIP ?? '';
  return {
    cells: [svc.metadata.name ?? '', svc.spec?.type ?? '', clusterIP || '<none>', externalIP(svc), servicePorts(svc.spec?.ports), since(svc.metadata.creationTimestamp, now), formatLabels(svc.spec?.selector)],
  };
}

export const servicePrinter: KindPrinter = {
  columns: [
    NAME_COLUMN,
    column('Type', 'string', FIELD_DOCS['ServiceSpec.type']),
    column('Cluster-IP', 'string', FIELD_DOCS['ServiceSpec.clusterIP']),
    column('External-IP', 'string', FIELD_DOCS['ServiceSpec.externalIPs']),
    column('Port(s)', 'string', FIELD_DOCS['ServiceSpec.ports']),
    AGE_COLUMN,
    column('Selector', 'string', FIELD_DOCS['ServiceSpec.selector'], { priority: 1 }),
  ],
  row: serviceRow,
};
