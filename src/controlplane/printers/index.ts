// One printer per kind the lab apiserver serves, as upstream registers one
// TableHandler per type. A kind without a printer would get the default
// NAME/AGE table; the printers test holds that every served kind has one.
import { deploymentPrinter } from './deployment.ts';
import { endpointSlicePrinter, endpointsPrinter } from './endpoints.ts';
import { namespacePrinter, serviceCIDRPrinter } from './cluster-kinds.ts';
import { nodePrinter } from './node.ts';
import { podPrinter } from './pod.ts';
import { servicePrinter } from './service.ts';
import type { KindPrinter } from './types.ts';

export const PRINTERS: Readonly<Record<string, KindPrinter>> = {
  Namespace: namespacePrinter,
  Node: nodePrinter,
  Service: servicePrinter,
  Pod: podPrinter,
  Endpoints: endpointsPrinter,
  Deployment: deploymentPrinter,
  EndpointSlice: endpointSlicePrinter,
  ServiceCIDR: serviceCIDRPrinter,
};

export { toTable, tableOptions, type Table, type TableOptions } from './table.ts';
export { negotiateTable, type TableTarget } from './negotiate.ts';
export type { KindPrinter, TableColumnDefinition, PrintedRow } from './types.ts';
