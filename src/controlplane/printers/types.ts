// The shapes of meta.k8s.io/v1 Table (what `kubectl get` asks the server
// for) and of one kind's printer: its column definitions and a pure function
// from one object to that object's row, as upstream's TableHandler pairs them
// (pkg/printers/internalversion/printers.go).
import type { KObj } from '../store.ts';

export interface TableColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  /** 0 = always shown; 1 = `kubectl get -o wide` only (kubectl hides the rest). */
  priority: number;
}

export type TableCell = string | number | boolean;

export interface TableRowCondition {
  type: 'Completed';
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

/** One row as a printer computes it; the Table adds `object` per includeObject. */
export interface PrintedRow {
  cells: TableCell[];
  conditions?: TableRowCondition[];
}

export interface KindPrinter {
  columns: TableColumnDefinition[];
  /** `now` is passed in so rows (AGE, RESTARTS "(5m ago)") are reproducible in tests. */
  row(obj: KObj, now: Date): PrintedRow;
}

/** Builds a column definition with upstream's defaults (format "", priority 0). */
export function column(name: string, type: TableColumnDefinition['type'], description: string, extra: { format?: string; priority?: number } = {}): TableColumnDefinition {
  return { name, type, format: extra.format ?? '', description, priority: extra.priority ?? 0 };
}
