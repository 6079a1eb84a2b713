// The runs table as the page draws it: columns built from the API's table, rows sorted with
// empty and NaN cells last, children grouped under their parent, and the window of rows
// that a scrolled viewport shows.

import type { RunTable } from "./types";
import { decodeFloat, formatCell, formatDuration, formatTime, runSeconds } from "./values";

export type Statistic = "last" | "min" | "max" | "mean";
export const STATISTICS: Statistic[] = ["last", "min", "max", "mean"];

/** A cell's value for sorting: a number, a text, or null for an empty cell. */
export type SortValue = number | string | null;

export interface Column {
  /** Stable key, kept in the address: `status`, `param:lr`, `metric:loss`. */
  key: string;
  label: string;
  numeric: boolean;
  sortValue(row: number): SortValue;
  text(row: number): string;
}

/** The columns of `table`: the card's fields, then each parameter, then each metric's
 *  `statistic`. `now` (ms) times the runs still running. */
export function columnsOf(table: RunTable, statistic: Statistic, now: number): Column[] {
  const runs = table.runs;
  const card = (
    key: string,
    label: string,
    value: (row: number) => string,
    sortValue: (row: number) => SortValue = value,
    numeric = false,
  ): Column => ({ key, label, numeric, sortValue, text: value });
  const columns: Column[] = [
    card("status", "Status", (r) => runs[r]?.status ?? ""),
    card("name", "Name", (r) => runs[r]?.name ?? ""),
    card("version", "Version", (r) => runs[r]?.version ?? "", (r) => versionKey(runs[r]?.version)),
    card("space", "Space", (r) => runs[r]?.space ?? ""),
    card("user", "User", (r) => runs[r]?.username ?? ""),
    card(
      "created",
      "Started",
      (r) => formatTime(runs[r]?.created_at ?? ""),
      (r) => Date.parse(runs[r]?.created_at ?? ""),
      true,
    ),
    card(
      "duration",
      "Duration",
      (r) => {
        const run = runs[r];
        return run ? formatDuration(runSeconds(run.created_at, run.ended_at, now)) : "";
      },
      (r) => {
        const run = runs[r];
        return run ? runSeconds(run.created_at, run.ended_at, now) : null;
      },
      true,
    ),
    card("tags", "Tags", (r) => (runs[r]?.tags ?? []).join(", ")),
  ];
  for (const [name, cells] of Object.entries(table.parameters)) {
    columns.push({
      key: `param:${name}`,
      label: name,
      numeric: cells.every((c) => c === null || typeof c === "number" || isSpecialFloat(c)),
      sortValue: (r) => {
        const cell = cells[r];
        if (cell === null || cell === undefined) return null;
        if (typeof cell === "number") return cell;
        if (typeof cell === "boolean") return cell ? 1 : 0;
        return isSpecialFloat(cell) ? decodeFloat(cell) : cell;
      },
      text: (r) => formatCell(cells[r]),
    });
  }
  for (const [name, summaries] of Object.entries(table.metrics)) {
    const cells = summaries[statistic] ?? [];
    columns.push({
      key: `metric:${name}`,
      label: `${name} (${statistic})`,
      numeric: true,
      sortValue: (r) => (cells[r] === null || cells[r] === undefined ? null : decodeFloat(cells[r])),
      text: (r) => formatCell(cells[r]),
    });
  }
  return columns;
}

function isSpecialFloat(value: unknown): value is "NaN" | "Infinity" | "-Infinity" {
  return value === "NaN" || value === "Infinity" || value === "-Infinity";
}

/** A version as a number that sorts as versions do (major, minor, patch up to 1e6 each). */
function versionKey(version: string | undefined): number | null {
  const parts = (version ?? "").split(/[.-]/).slice(0, 3).map(Number);
  if (parts.length < 3 || parts.some((p) => !Number.isFinite(p))) return null;
  const [major = 0, minor = 0, patch = 0] = parts;
  return (major * 1e6 + minor) * 1e6 + patch;
}

/** Row indices ordered by `column`; empty and NaN cells come last either way, ties keep
 *  the table's order. */
export function sortRows(count: number, column: Column | undefined, descending: boolean): number[] {
  const rows = Array.from({ length: count }, (_, i) => i);
  if (!column) return rows;
  const keys = rows.map((r) => column.sortValue(r));
  const empty = (v: SortValue) => v === null || (typeof v === "number" && Number.isNaN(v));
  return rows.sort((a, b) => {
    const x = keys[a] ?? null;
    const y = keys[b] ?? null;
    if (empty(x) || empty(y)) return Number(empty(x)) - Number(empty(y)) || a - b;
    let order: number;
    if (typeof x === "number" && typeof y === "number") order = x < y ? -1 : x > y ? 1 : 0;
    else order = String(x).localeCompare(String(y));
    return (descending ? -order : order) || a - b;
  });
}

/** A row of the drawn table: the run's index and how deep it is nested under parents. */
export interface DrawnRow {
  row: number;
  depth: number;
}

/** `order` with each run's children (runs whose parent is in the table) right after it,
 *  in `order`'s order among themselves. */
export function groupChildren(table: RunTable, order: number[]): DrawnRow[] {
  const indexOf = new Map(table.runs.map((run, i) => [run.uid, i]));
  const children = new Map<number, number[]>();
  const roots: number[] = [];
  for (const row of order) {
    const parent = table.runs[row]?.parent_uid;
    const parentRow = parent ? indexOf.get(parent) : undefined;
    if (parentRow === undefined || parentRow === row) {
      roots.push(row);
    } else {
      const list = children.get(parentRow) ?? [];
      list.push(row);
      children.set(parentRow, list);
    }
  }
  const drawn: DrawnRow[] = [];
  const seen = new Set<number>();
  const visit = (row: number, depth: number) => {
    if (seen.has(row)) return;
    seen.add(row);
    drawn.push({ row, depth });
    for (const child of children.get(row) ?? []) visit(child, depth + 1);
  };
  for (const root of roots) visit(root, 0);
  // Runs in a cycle of parents have no root: shown at the top level rather than lost.
  for (const row of order) visit(row, 0);
  return drawn;
}

/** The rows a viewport `height` pixels tall, scrolled `scrollTop` down, shows (with
 *  `overscan` more on each side), as a half-open range. */
export function visibleRange(
  scrollTop: number,
  height: number,
  rowHeight: number,
  count: number,
  overscan = 8,
): { first: number; last: number } {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + height) / rowHeight) + overscan);
  return { first, last: Math.max(first, last) };
}

/** Parameter and metric columns shown before the user chooses: more make rows too wide to
 *  read and slow to draw. */
export const DEFAULT_DATA_COLUMNS = 40;

/** Whether `column` is one of the card's own fields (always shown). */
export function isCardColumn(column: Column): boolean {
  return !column.key.startsWith("param:") && !column.key.startsWith("metric:");
}

/** The columns drawn: the card's fields, then the parameter and metric columns `chosen`
 *  (in the table's order), or the first `DEFAULT_DATA_COLUMNS` of them when none are. */
export function shownColumns(columns: Column[], chosen: string[] | null): Column[] {
  if (chosen === null) {
    let data = 0;
    return columns.filter((c) => isCardColumn(c) || (data += 1) <= DEFAULT_DATA_COLUMNS);
  }
  const wanted = new Set(chosen);
  return columns.filter((c) => isCardColumn(c) || wanted.has(c.key));
}

/** Rows drawn at once for a viewport `height` pixels tall: the rows in view and `overscan`
 *  more on each side (as `visibleRange` covers), so that each has an element of its own. */
export function poolSize(height: number, rowHeight: number, overscan = 8): number {
  return Math.ceil(height / rowHeight) + 1 + 2 * overscan;
}

/** The row that element `slot` of a pool of `pool` shows when the rows from `first` are
 *  drawn: row `r` always lands in slot `r % pool`, so scrolling by a few rows gives only
 *  those few elements new content and leaves the others as they are. */
export function slotRow(slot: number, first: number, pool: number): number {
  return first + ((((slot - first) % pool) + pool) % pool);
}
