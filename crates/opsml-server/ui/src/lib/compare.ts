// Runs side by side: parameters with the differing ones first, each run labelled by the
// parameters that differ (not by name and version), and a parameter against a metric
// summary as points.

import { decodeFloat, formatCell } from "./values";
import type { MetricSummary, Parameter } from "./types";

export interface ComparedRun {
  uid: string;
  name: string;
  version: string;
  parameters: Parameter[];
  summaries: MetricSummary[];
}

export interface ParameterRow {
  name: string;
  /** The value's text per run; "" where the run lacks it. */
  cells: string[];
  differs: boolean;
}

/** Every parameter of any run, those whose values differ first, then by name. */
export function parameterRows(runs: ComparedRun[]): ParameterRow[] {
  const names = new Set(runs.flatMap((run) => run.parameters.map((p) => p.name)));
  const rows = [...names].map((name) => {
    const cells = runs.map((run) => {
      const found = run.parameters.find((p) => p.name === name);
      return found ? formatCell(found.value.value) : "";
    });
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
  return [...new Set(runs.flatMap((run) => run.summaries.map((s) => s.name)))].sort();
}

export type Summary = "last" | "min" | "max" | "mean";

function summaryValue(summary: MetricSummary | undefined, which: Summary): number {
  if (!summary) return NaN;
  if (which === "mean") {
    return summary.value_count > 0 ? decodeFloat(summary.sum) / summary.value_count : NaN;
  }
  return decodeFloat(summary[which]);
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
    const value = run.parameters.find((p) => p.name === parameter)?.value.value;
    const y = summaryValue(run.summaries.find((s) => s.name === metric), which);
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
