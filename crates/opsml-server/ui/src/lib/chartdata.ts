// A chart's data from the points of one metric of one or more runs: x by step, wall time or
// time since the run started; NaN and ±inf as gaps; optional EMA smoothing with
// the raw line kept faint behind it; all runs joined on one x axis as uPlot draws them.

import { decodeFloat } from "./values";
import { drawable, ema } from "./smooth";
import type { SeriesPoints } from "./types";

export type XAxis = "step" | "time" | "relative";

export interface ChartSettings {
  xAxis: XAxis;
  logY: boolean;
  /** EMA weight, 0 (none) to below 1. */
  smoothing: number;
}

/** One run's points of the metric, in the order logged. */
export interface RunPoints {
  label: string;
  steps: (number | null)[];
  values: number[];
  /** Microseconds since the Unix epoch. */
  times: number[];
  /** Points the metric has in all on the server. */
  total: number;
  downsampled: boolean;
  /** NaN and infinite points among them, as the server counted them. */
  nan: number;
  infinite: number;
}

export function runPoints(label: string, series: SeriesPoints): RunPoints {
  return {
    label,
    steps: series.steps,
    values: series.values.map(decodeFloat),
    times: series.times,
    total: series.total,
    downsampled: series.downsampled,
    nan: series.nan,
    infinite: series.infinite,
  };
}

/** `points` with the points of `more` (the next ones the server sent) added. */
export function appended(points: RunPoints, more: SeriesPoints): RunPoints {
  return {
    ...points,
    steps: points.steps.concat(more.steps),
    values: points.values.concat(more.values.map(decodeFloat)),
    times: points.times.concat(more.times),
    total: more.total,
    nan: points.nan + more.nan,
    infinite: points.infinite + more.infinite,
  };
}

/** What a line of the chart is: a run's raw line (faint when smoothed) or its smoothed one. */
export interface LineMeta {
  run: number;
  label: string;
  smoothed: boolean;
  faint: boolean;
}

export interface ChartData {
  /** uPlot's aligned data: x, then one array per line. */
  data: [number[], ...(number | null | undefined)[][]];
  lines: LineMeta[];
  /** NaN and infinite points shown as gaps, over all runs (the server's counts). */
  nan: number;
  infinite: number;
}

function xsOf(points: RunPoints, axis: XAxis): number[] {
  if (axis === "step") return points.steps.map((step, i) => step ?? i);
  const start = points.times[0] ?? 0;
  // uPlot's time scale is in seconds.
  if (axis === "time") return points.times.map((t) => t / 1e6);
  return points.times.map((t) => (t - start) / 1e6);
}

/** The chart's data for `runs` under `settings`. */
export function chartData(runs: RunPoints[], settings: ChartSettings): ChartData {
  const lines: LineMeta[] = [];
  const perRun: { xs: number[]; ys: (number | null)[][] }[] = [];
  runs.forEach((points, run) => {
    const xs = xsOf(points, settings.xAxis);
    // Sorted by x: a resumed run may log a step again, and uPlot needs x ascending.
    const order = xs.map((_, i) => i).sort((a, b) => (xs[a] ?? 0) - (xs[b] ?? 0) || a - b);
    const sortedXs = order.map((i) => xs[i] ?? 0);
    let raw = drawable(order.map((i) => points.values[i] ?? NaN));
    if (settings.logY) raw = raw.map((v) => (v !== null && v > 0 ? v : null));
    const ys: (number | null)[][] = [raw];
    lines.push({ run, label: points.label, smoothed: false, faint: settings.smoothing > 0 });
    if (settings.smoothing > 0) {
      ys.push(ema(raw, settings.smoothing));
      lines.push({ run, label: `${points.label} (smoothed)`, smoothed: true, faint: false });
    }
    perRun.push({ xs: sortedXs, ys });
  });
  const nan = runs.reduce((n, r) => n + r.nan, 0);
  const infinite = runs.reduce((n, r) => n + r.infinite, 0);
  return { data: join(perRun), lines, nan, infinite };
}

/** Lines of several runs on one x axis: every x of any run. */
function join(perRun: { xs: number[]; ys: (number | null)[][] }[]): ChartData["data"] {
  const allXs = Array.from(new Set(perRun.flatMap((r) => r.xs))).sort((a, b) => a - b);
  const position = new Map(allXs.map((x, i) => [x, i]));
  const columns: (number | null | undefined)[][] = [];
  for (const run of perRun) {
    for (const ys of run.ys) {
      // No point at an x is `undefined`, which uPlot draws across; a NaN or infinite point is
      // `null`, which it draws as a gap.
      const column: (number | null | undefined)[] = new Array<number | null | undefined>(
        allXs.length,
      ).fill(undefined);
      run.xs.forEach((x, i) => {
        const at = position.get(x);
        // A step logged twice keeps its later value.
        if (at !== undefined) column[at] = ys[i] ?? null;
      });
      columns.push(column);
    }
  }
  return [allXs, ...columns];
}

/** What to ask the server for at full detail when a chart by `axis` is zoomed to
 *  `[min, max]` (in the axis' units): a step range, or a time range in microseconds; null
 *  when nothing was left out, or for time since each run's start across several runs (their
 *  starts differ, so no one range fits them all). */
export function detailQuery(
  runs: RunPoints[],
  axis: XAxis,
  min: number,
  max: number,
): { start: number; stop: number } | { since: number; until: number } | null {
  if (!runs.some((r) => r.downsampled)) return null;
  if (axis === "step") return { start: Math.floor(min), stop: Math.ceil(max) + 1 };
  let origin = 0;
  if (axis === "relative") {
    const only = runs.length === 1 ? runs[0] : undefined;
    if (only?.times[0] === undefined) return null;
    origin = only.times[0];
  }
  return { since: Math.floor(origin + min * 1e6), until: Math.ceil(origin + max * 1e6) + 1 };
}
