import type { Cell } from './table-readers.js';

/** A table in memory: the column names and the rows, as the table readers produce them. */
export interface Table {
  readonly header: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
}

/** A label as text, the way the spec's positiveLabel spells it. */
export const labelText = (cell: Cell | undefined) => (cell === null || cell === undefined ? '' : typeof cell === 'string' ? cell.trim() : String(cell));
