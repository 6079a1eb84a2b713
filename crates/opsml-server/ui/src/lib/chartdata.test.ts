import { describe, expect, it } from "vitest";
import { appended, chartData, detailQuery, runPoints } from "./chartdata";
import { ema } from "./smooth";
import type { SeriesPoints } from "./types";

function series(steps: number[], values: SeriesPoints["values"], extra: Partial<SeriesPoints> = {}): SeriesPoints {
  return {
    name: "loss",
    total: steps.length,
    downsampled: false,
    nan: values.filter((v) => v === "NaN").length,
    infinite: values.filter((v) => v === "Infinity" || v === "-Infinity").length,
    steps,
    values,
    times: steps.map((s) => 1_000_000 + s * 500_000),
    ...extra,
  };
}

describe("chart data", () => {
  it("turns NaN and infinities into counted gaps", () => {
    const run = runPoints("a", series([0, 1, 2, 3], [1, "NaN", "Infinity", 4]));
    const chart = chartData([run], { xAxis: "step", logY: false, smoothing: 0 });
    expect(chart.data).toEqual([[0, 1, 2, 3], [1, null, null, 4]]);
    expect([chart.nan, chart.infinite]).toEqual([1, 1]);
  });

  it("joins runs on one x axis, a run drawn across the x of other runs", () => {
    const a = runPoints("a", series([0, 2], [1, 2]));
    const b = runPoints("b", series([1, 2], [5, 6]));
    const chart = chartData([a, b], { xAxis: "step", logY: false, smoothing: 0 });
    // A run without a point at an x is drawn across it (undefined); only NaN breaks a line.
    expect(chart.data).toEqual([[0, 1, 2], [1, undefined, 2], [undefined, 5, 6]]);
    expect(chart.lines.map((l) => l.label)).toEqual(["a", "b"]);
  });

  it("keeps the raw line faint behind the smoothed one", () => {
    const run = runPoints("a", series([0, 1, 2], [1, 2, 3]));
    const chart = chartData([run], { xAxis: "step", logY: false, smoothing: 0.5 });
    expect(chart.lines).toEqual([
      { run: 0, label: "a", smoothed: false, faint: true },
      { run: 0, label: "a (smoothed)", smoothed: true, faint: false },
    ]);
    expect(chart.data[1]).toEqual([1, 2, 3]);
    expect(chart.data[2]).toEqual(ema([1, 2, 3], 0.5));
  });

  it("measures time from the run's first point in seconds, and leaves non-positive values out of a log scale", () => {
    const run = runPoints("a", series([0, 1, 2], [-1, 0, 10]));
    const chart = chartData([run], { xAxis: "relative", logY: true, smoothing: 0 });
    expect(chart.data).toEqual([[0, 0.5, 1], [null, null, 10]]);
  });

  it("orders points by x, a repeated step keeping its later value", () => {
    const run = runPoints("a", series([2, 0, 2], [1, 2, 3]));
    const chart = chartData([run], { xAxis: "step", logY: false, smoothing: 0 });
    expect(chart.data).toEqual([[0, 2], [2, 3]]);
  });

  it("appends live points and asks for detail only where points were left out", () => {
    const first = runPoints("a", series([0, 1], [1, 2], { total: 2 }));
    const more = appended(first, series([2], [3], { total: 3 }));
    expect(more.values).toEqual([1, 2, 3]);
    const withGap = appended(first, series([2], ["NaN"], { total: 3 }));
    expect([withGap.nan, withGap.infinite]).toEqual([1, 0]);
    expect(more.total).toBe(3);
    expect(detailQuery([first], "step", 0.4, 1.2)).toBeNull();
    const thinned = runPoints("a", series([0, 100], [1, 2], { downsampled: true, total: 1000 }));
    expect(detailQuery([thinned], "step", 10.5, 20.2)).toEqual({ start: 10, stop: 22 });
  });

  it("asks for a time range at full detail when a chart by time is zoomed", () => {
    const thinned = runPoints("a", series([0, 100], [1, 2], { downsampled: true, times: [5_000_000, 9_000_000] }));
    // Wall time is in seconds on the chart, microseconds on the server.
    expect(detailQuery([thinned], "time", 6, 7.5)).toEqual({ since: 6_000_000, until: 7_500_001 });
    // Time since the start: from the run's first point.
    expect(detailQuery([thinned], "relative", 1, 2)).toEqual({ since: 6_000_000, until: 7_000_001 });
    expect(detailQuery([thinned, thinned], "relative", 1, 2)).toBeNull();
  });
});

describe("smoothing", () => {
  it("is debiased, so the first point is its own value, and skips gaps", () => {
    const smoothed = ema([10, null, 10, NaN, 10], 0.9);
    expect(smoothed[0]).toBeCloseTo(10);
    expect(smoothed[1]).toBeNull();
    expect(smoothed[2]).toBeCloseTo(10);
    expect(smoothed[3]).toBeNull();
    expect(ema([1, 2], 0)).toEqual([1, 2]);
  });
});
