// Runs side by side: parameters with the differing ones first, each run labelled by the
// parameters that differ (not by name and version), and a parameter against a metric
// summary as points.

import { decodeFloat, formatCell } from "./values";
import type { JsonFloat, RunTable } from "./types";

export type Summary = "last" | "min" | "max" | "mean";
export const SUMMARIES: Summary[] = ["last", "min", "max", "mean"];

/** A parameter's value as the runs table sends it. */
export type ParameterCell = number | string | boolean;

export interface ComparedRun {
  uid: string;
  name: string;
  version: string;
  /** Parameters by name. */
  parameters: Map<string, ParameterCell>;
  /** Each metric's summaries by metric name (NaN where it has none). */
  summaries: Map<string, Record<Summary, number>>;
}

/** The runs `uids` (in that order; those the table lacks left out) from a runs table that
 *  holds them, read with every summary of `SUMMARIES`. */
export function comparedRuns(table: RunTable, uids: string[]): ComparedRun[] {
  const row = new Map(table.runs.map((run, i) => [run.uid, i]));
  const cell = (cells: JsonFloat[] | undefined, i: number) => decodeFloat(cells?.[i] ?? null);
  return uids.flatMap((uid) => {
    const i = row.get(uid);
    const card = i === undefined ? undefined : table.runs[i];
    if (i === undefined || !card) return [];
    const parameters = new Map<string, ParameterCell>();
    for (const [name, cells] of Object.entries(table.parameters)) {
      const value = cells[i];
      if (value !== null && value !== undefined) parameters.set(name, value);
    }
    const summaries = new Map<string, Record<Summary, number>>();
    for (const [name, columns] of Object.entries(table.metrics)) {
      if (columns.last?.[i] === null || columns.last?.[i] === undefined) continue;
      summaries.set(name, {
        last: cell(columns.last, i),
        min: cell(columns.min, i),
        max: cell(columns.max, i),
        mean: cell(columns.mean, i),
      });
    }
    return [{ uid, name: card.name, version: card.version, parameters, summaries }];
  });
}

export interface ParameterRow {
  name: string;
  /** The value's text per run; "" where the run lacks it. */
  cells: string[];
  differs: boolean;
}

/** Every parameter of any run, those whose values differ first, then by name. */
export function parameterRows(runs: ComparedRun[]): ParameterRow[] {
  const names = new Set(runs.flatMap((run) => [...run.parameters.keys()]));
  const rows = [...names].map((name) => {
    const cells = runs.map((run) => formatCell(run.parameters.get(name)));
    return { name, cells, differs: new Set(cells).size > 1 };
  });
  return rows.sort((a, b) => Number(b.differs) - Number(a.differs) || a.name.localeCompare(b.name));
}

/** A label per run from the parameters that differ ("lr=0.1, batch=32"), at most `most` of
 *  them; name and version when none differ or two runs would read the same. */
export function runLabels(runs: ComparedRun[], most = 3): string[] {
  const differing = parameterRows(runs).filter((row) => row.differs).slice(0, most);
  const labels = runs.map((run, i) =>
    differing.map((row) => `${row.name}=${row.cells[i] === "" ? "—" : row.cells[i]}`).join(", "),
  );
  const unique = new Set(labels).size === labels.length && labels.every((l) => l !== "");
  return unique ? labels : runs.map((run, i) => (labels[i] ? `${run.name} v${run.version} (${labels[i]})` : `${run.name} v${run.version}`));
}

/** Every metric name of any run, sorted. */
export function metricNames(runs: ComparedRun[]): string[] {
  return [...new Set(runs.flatMap((run) => [...run.summaries.keys()]))].sort();
}

export interface Scatter {
  /** x of each point: the parameter's number, or the index of its text among `categories`. */
  xs: number[];
  ys: (number | null)[];
  /** Texts of a parameter that is not a number, in x order; empty for a numeric one. */
  categories: string[];
  /** The run of each point. */
  runs: number[];
}

/** Parameter `parameter` against metric `metric`'s `which` summary, one point per run that
 *  has both, ordered by x. */
export function scatter(runs: ComparedRun[], parameter: string, metric: string, which: Summary): Scatter {
  const raw = runs.map((run, index) => {
    const value = run.parameters.get(parameter);
    const y = run.summaries.get(metric)?.[which] ?? NaN;
    return { index, value, y };
  });
  const present = raw.filter((p) => p.value !== undefined && !Number.isNaN(p.y));
  const numeric = present.every((p) => typeof p.value === "number");
  const categories = numeric ? [] : [...new Set(present.map((p) => String(p.value)))].sort();
  const points = present
    .map((p) => ({
      run: p.index,
      x: numeric ? (p.value as number) : categories.indexOf(String(p.value)),
      y: Number.isFinite(p.y) ? p.y : null,
    }))
    .sort((a, b) => a.x - b.x || a.run - b.run);
  return {
    xs: points.map((p) => p.x),
    ys: points.map((p) => p.y),
    categories,
    runs: points.map((p) => p.run),
  };
}
