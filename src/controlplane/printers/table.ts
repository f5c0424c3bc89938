// Objects → meta.k8s.io Table, as the apiserver's asTable does it: the kind's
// printer gives columns and cells (always the wide set, priority included:
// kubectl hides priority > 0 columns unless -o wide), and each row carries
// its object per ?includeObject — None (null), Metadata (the default: a
// PartialObjectMetadata, which kubectl needs for NAMESPACE and --show-labels)
// or Object (the whole object, which kubectl asks for when sorting).
import { badRequest } from '../status.ts';
import type { KObj } from '../store.ts';
import { AGE_COLUMN, NAME_COLUMN } from './format.ts';
import type { TableTarget } from './negotiate.ts';
import type { KindPrinter, TableCell, TableColumnDefinition, TableRowCondition } from './types.ts';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableOptions {
  includeObject: IncludeObject;
  /** Leave out columnDefinitions (every watch event after the first, as upstream's watch encoder does). */
  noHeaders?: boolean;
}

export interface TableRow {
  cells: TableCell[];
  conditions?: TableRowCondition[];
  object: unknown;
}

export interface Table {
  kind: 'Table';
  apiVersion: string;
  metadata: { resourceVersion?: string; continue?: string };
  /** null when left out, as Go encodes a nil slice without omitempty. */
  columnDefinitions: TableColumnDefinition[] | null;
  rows: TableRow[];
}

/** ?includeObject=None|Metadata|Object; anything else is upstream's 400. */
export function tableOptions(q: URLSearchParams): TableOptions {
  const v = q.get('includeObject') ?? '';
  if (v === '' || v === 'Metadata') return { includeObject: 'Metadata' };
  if (v === 'None' || v === 'Object') return { includeObject: v };
  throw badRequest(`unrecognized includeObject value: "${v}"`);
}

// Upstream's default table convertor (rest.NewDefaultTableConvertor) for a kind without a printer.
const DEFAULT_PRINTER: KindPrinter = {
  columns: [NAME_COLUMN, { ...AGE_COLUMN, name: 'Created At', type: 'date' }],
  row: (o, _now) => ({ cells: [o.metadata.name ?? '', o.metadata.creationTimestamp ?? ''] }),
};

function rowObject(o: KObj, include: IncludeObject, target: TableTarget): unknown {
  switch (include) {
    case 'None':
      return null;
    case 'Object':
      return o;
    case 'Metadata':
      return { kind: 'PartialObjectMetadata', apiVersion: target.apiVersion, metadata: o.metadata };
  }
}

/**
 * The Table for a list (`metadata` = the list's) or one object (its
 * resourceVersion). `printer` undefined: the default NAME / CREATED AT table.
 */
export function toTable(
  printer: KindPrinter | undefined,
  objects: KObj[],
  metadata: { resourceVersion?: string; continue?: string },
  target: TableTarget,
  opts: TableOptions,
  now: Date,
): Table {
  const p = printer ?? DEFAULT_PRINTER;
  return {
    kind: 'Table',
    apiVersion: target.apiVersion,
    metadata: { ...(metadata.resourceVersion !== undefined ? { resourceVersion: metadata.resourceVersion } : {}), ...(metadata.continue ? { continue: metadata.continue } : {}) },
    columnDefinitions: opts.noHeaders ? null : p.columns,
    rows: objects.map((o) => {
      const r = p.row(o, now);
      return { cells: r.cells, ...(r.conditions ? { conditions: r.conditions } : {}), object: rowObject(o, opts.includeObject, target) };
    }),
  };
}
