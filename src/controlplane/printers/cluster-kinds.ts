// Namespaces (STATUS = phase) and ServiceCIDRs (CIDRS joined), as upstream's
// printNamespace and printServiceCIDR.
import type { KObj } from '../store.ts';
import { FIELD_DOCS } from './field-docs.ts';
import { AGE_COLUMN, NAME_COLUMN, since } from './format.ts';
import { column, type KindPrinter, type PrintedRow } from './types.ts';

export const namespacePrinter: KindPrinter = {
  columns: [NAME_COLUMN, column('Status', 'string', 'The status of the namespace'), AGE_COLUMN],
  row: (ns: KObj, now: Date): PrintedRow => ({ cells: [ns.metadata.name ?? '', ns.status?.phase ?? '', since(ns.metadata.creationTimestamp, now)] }),
};

export const serviceCIDRPrinter: KindPrinter = {
  columns: [NAME_COLUMN, column('CIDRs', 'string', FIELD_DOCS['ServiceCIDRSpec.cidrs']), AGE_COLUMN],
  row: (c: KObj, now: Date): PrintedRow => ({ cells: [c.metadata.name ?? '', (c.spec?.cidrs ?? []).join(','), since(c.metadata.creationTimestamp, now)] }),
};
