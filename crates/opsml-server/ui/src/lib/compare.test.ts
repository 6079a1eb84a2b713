import { describe, expect, it } from "vitest";
import { comparedRuns, metricNames, parameterRows, runLabels, scatter, type ComparedRun } from "./compare";
import type { RunTable } from "./types";

const run = (
  uid: string,
  parameters: Record<string, number | string>,
  losses: Record<string, number> = {},
): ComparedRun => ({
  uid,
  name: "sweep",
  version: `0.${uid}.0`,
  parameters: new Map(Object.entries(parameters)),
  summaries: new Map(
    Object.entries(losses).map(([name, v]) => [name, { last: v, min: v, max: v, mean: v }]),
  ),
});

describe("comparing runs", () => {
  const runs = [
    run("1", { lr: 0.1, opt: "adam", seed: 1 }, { loss: 0.5 }),
    run("2", { lr: 0.01, opt: "adam", seed: 1 }, { loss: 0.2, acc: 0.9 }),
    run("3", { lr: 0.001, opt: "adam" }, { loss: NaN }),
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
    const same = [run("1", { lr: 0.1 }), run("2", { lr: 0.1 })];
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
      run("1", { opt: "sgd" }, { loss: 1 }),
      run("2", { opt: "adam" }, { loss: 2 }),
    ];
    const points = scatter(mixed, "opt", "loss", "mean");
    expect(points.categories).toEqual(["adam", "sgd"]);
    expect(points.xs).toEqual([0, 1]);
    expect(points.ys).toEqual([2, 1]);
  });

  it("reads the runs asked for from a runs table, in the order asked, NaN kept", () => {
    const card = (uid: string, name: string) => ({
      uid,
      space: "s",
      name,
      version: "1.0.0",
      tags: [],
      status: "completed" as const,
      created_at: "2026-01-01T00:00:00Z",
      ended_at: null,
      parent_uid: null,
      username: "ana",
    });
    const table: RunTable = {
      runs: [card("a", "alpha"), card("b", "beta")],
      parameters: { lr: [0.1, null], opt: [null, "sgd"] },
      metrics: { loss: { last: ["NaN", 0.5], min: [1, 0.25], max: [2, "Infinity"], mean: [1.5, 0.4] } },
    };
    const runs = comparedRuns(table, ["b", "gone", "a"]);
    expect(runs.map((r) => r.name)).toEqual(["beta", "alpha"]);
    expect([...(runs[0]?.parameters ?? [])]).toEqual([["opt", "sgd"]]);
    expect(runs[0]?.summaries.get("loss")).toEqual({ last: 0.5, min: 0.25, max: Infinity, mean: 0.4 });
    expect(runs[1]?.summaries.get("loss")?.last).toBeNaN();
  });
});
