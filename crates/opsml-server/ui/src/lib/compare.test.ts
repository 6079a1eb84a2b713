import { describe, expect, it } from "vitest";
import { metricNames, parameterRows, runLabels, scatter, type ComparedRun } from "./compare";
import type { MetricSummary, Parameter } from "./types";

const param = (name: string, value: number | string): Parameter => ({
  name,
  value: { type: typeof value === "number" ? "float" : "str", value },
});
const summary = (name: string, last: number | "NaN", extra: Partial<MetricSummary> = {}): MetricSummary => ({
  name,
  count: 1,
  value_count: 1,
  sum: last,
  min: last,
  max: last,
  first: last,
  first_step: 0,
  last,
  last_step: 0,
  ...extra,
});
const run = (uid: string, parameters: Parameter[], summaries: MetricSummary[] = []): ComparedRun => ({
  uid,
  name: "sweep",
  version: `0.${uid}.0`,
  parameters,
  summaries,
});

describe("comparing runs", () => {
  const runs = [
    run("1", [param("lr", 0.1), param("opt", "adam"), param("seed", 1)], [summary("loss", 0.5)]),
    run("2", [param("lr", 0.01), param("opt", "adam"), param("seed", 1)], [summary("loss", 0.2), summary("acc", 0.9)]),
    run("3", [param("lr", 0.001), param("opt", "adam")], [summary("loss", "NaN")]),
  ];

  it("lists differing parameters first, a missing one counting as different", () => {
    const rows = parameterRows(runs);
    expect(rows.map((r) => [r.name, r.differs])).toEqual([
      ["lr", true],
      ["seed", true],
      ["opt", false],
    ]);
    expect(rows[1]?.cells).toEqual(["1", "1", ""]);
  });

  it("labels runs by the parameters that differ", () => {
    expect(runLabels(runs)).toEqual(["lr=0.1, seed=1", "lr=0.01, seed=1", "lr=0.001, seed=—"]);
    const same = [run("1", [param("lr", 0.1)]), run("2", [param("lr", 0.1)])];
    expect(runLabels(same)).toEqual(["sweep v0.1.0", "sweep v0.2.0"]);
  });

  it("collects every metric name", () => {
    expect(metricNames(runs)).toEqual(["acc", "loss"]);
  });

  it("plots a numeric parameter against a summary, sorted by x, a NaN summary left out", () => {
    const points = scatter(runs, "lr", "loss", "last");
    expect(points.xs).toEqual([0.01, 0.1]);
    expect(points.ys).toEqual([0.2, 0.5]);
    expect(points.runs).toEqual([1, 0]);
    expect(points.categories).toEqual([]);
  });

  it("places a text parameter's values as categories", () => {
    const mixed = [
      run("1", [param("opt", "sgd")], [summary("loss", 1)]),
      run("2", [param("opt", "adam")], [summary("loss", 2)]),
    ];
    const points = scatter(mixed, "opt", "loss", "mean");
    expect(points.categories).toEqual(["adam", "sgd"]);
    expect(points.xs).toEqual([0, 1]);
    expect(points.ys).toEqual([2, 1]);
  });
});
