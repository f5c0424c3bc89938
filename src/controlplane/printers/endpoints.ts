// Endpoints and EndpointSlices as `kubectl get ep` / `get endpointslices`
// show them: at most three "ip:port" (or address / port) entries, then
// " + N more...". Upstream's formatEndpoints, formatDiscoveryPorts and
// formatDiscoveryEndpoints.
import type { KObj } from '../store.ts';
import { FIELD_DOCS } from './field-docs.ts';
import { AGE_COLUMN, NAME_COLUMN, listWithMore, since } from './format.ts';
import { column, type KindPrinter, type PrintedRow } from './types.ts';

const MAX = 3;

interface Subset {
  addresses?: { ip: string }[];
  ports?: { port: number; name?: string }[];
}

/** "ip" joined with the port as Go's net.JoinHostPort does (brackets for IPv6). */
const hostPort = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** formatEndpoints: only ready addresses count; every port multiplies them. */
export function formatEndpoints(subsets: Subset[] | undefined): string {
  if (!subsets?.length) return '<none>';
  const list: string[] = [];
  let count = 0;
  for (const ss of subsets) {
    const addrs = ss.addresses ?? [];
    // Headless Services may have no ports: the addresses alone.
    if (!ss.ports?.length) {
      count += addrs.length;
      for (const a of addrs) if (list.length < MAX) list.push(a.ip);
      continue;
    }
    for (const p of ss.ports) {
      count += addrs.length;
      for (const a of addrs) if (list.length < MAX) list.push(hostPort(a.ip, p.port));
    }
  }
  // Subsets with only not-ready addresses print an empty cell, as upstream does.
  return listWithMore(list, count, MAX, '');
}

export function formatSlicePorts(ports: { port?: number | null; name?: string | null }[] | undefined): string {
  const list = (ports ?? []).map((p) => (p.port != null ? String(p.port) : p.name != null ? p.name : '*'));
  return listWithMore(list, list.length, MAX, '<unset>');
}

export function formatSliceEndpoints(endpoints: { addresses: string[] }[] | undefined): string {
  const list = (endpoints ?? []).flatMap((e) => e.addresses ?? []);
  return listWithMore(list, list.length, MAX, '<unset>');
}

export const endpointsPrinter: KindPrinter = {
  columns: [NAME_COLUMN, column('Endpoints', 'string', FIELD_DOCS['Endpoints.subsets']), AGE_COLUMN],
  row: (ep: KObj, now: Date): PrintedRow => ({ cells: [ep.metadata.name ?? '', formatEndpoints(ep.subsets), since(ep.metadata.creationTimestamp, now)] }),
};

export const endpointSlicePrinter: KindPrinter = {
  columns: [
    NAME_COLUMN,
    column('AddressType', 'string', FIELD_DOCS['EndpointSlice.addressType']),
    column('Ports', 'string', FIELD_DOCS['EndpointSlice.ports']),
    column('Endpoints', 'string', FIELD_DOCS['EndpointSlice.endpoints']),
    AGE_COLUMN,
  ],
  row: (s: KObj, now: Date): PrintedRow => ({
    cells: [s.metadata.name ?? '', s.addressType ?? '', formatSlicePorts(s.ports), formatSliceEndpoints(s.endpoints), since(s.metadata.creationTimestamp, now)],
  }),
};
