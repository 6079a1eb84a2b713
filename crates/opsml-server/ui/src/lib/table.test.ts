import { describe, expect, it } from "vitest";
import {
  columnsOf,
  DEFAULT_DATA_COLUMNS,
  groupChildren,
  poolSize,
  shownColumns,
  slotRow,
  sortRows,
  visibleRange,
} from "./table";
import type { CardRecord, RunTable } from "./types";

function card(uid: string, name: string, extra: Partial<CardRecord> = {}): CardRecord {
  return {
    uid,
    space: "s",
    name,
    version: "1.0.0",
    tags: [],
    status: "completed",
    created_at: "2026-01-01T00:00:00Z",
    ended_at: "2026-01-01T00:01:00Z",
    parent_uid: null,
    username: "ana",
    ...extra,
  };
}

const table: RunTable = {
  runs: [card("a", "alpha"), card("b", "beta", { version: "1.10.0" }), card("c", "gamma", { version: "1.9.0" })],
  parameters: { lr: [0.1, null, 0.01], opt: ["adam", "sgd", null] },
  metrics: {
    loss: {
      last: [0.5, "NaN", 0.25],
      min: [0.1, null, 0.2],
      max: [1, null, "Infinity"],
      mean: [0.3, null, 0.4],
      last_step: [9, null, 9],
      count: [10, 1, 10],
    },
  },
};

describe("columns", () => {
  it("has the card's fields, then each parameter, then each metric's chosen statistic", () => {
    const keys = columnsOf(table, "last", 0).map((c) => c.key);
    expect(keys).toEqual([
      "status", "name", "version", "space", "user", "created", "duration", "tags",
      "param:lr", "param:opt", "metric:loss",
    ]);
    const max = columnsOf(table, "max", 0).find((c) => c.key === "metric:loss");
    expect(max?.label).toBe("loss (max)");
    expect([0, 1, 2].map((r) => max?.text(r))).toEqual(["1", "", "inf"]);
  });

  it("shows NaN as NaN and a missing cell as empty", () => {
    const loss = columnsOf(table, "last", 0).find((c) => c.key === "metric:loss");
    expect([0, 1, 2].map((r) => loss?.text(r))).toEqual(["0.5", "NaN", "0.25"]);
    const lr = columnsOf(table, "last", 0).find((c) => c.key === "param:lr");
    expect(lr?.text(1)).toBe("");
    expect(lr?.numeric).toBe(true);
  });
});

describe("chosen columns", () => {
  it("always shows the card's fields and only the chosen data columns, in the table's order", () => {
    const columns = columnsOf(table, "last", 0);
    const keys = shownColumns(columns, ["metric:loss", "param:lr", "param:gone"]).map((c) => c.key);
    expect(keys.slice(8)).toEqual(["param:lr", "metric:loss"]);
    expect(keys.slice(0, 8)).toContain("status");
    expect(shownColumns(columns, []).map((c) => c.key)).toHaveLength(8);
  });

  it("shows the first data columns before any choice", () => {
    const wide: RunTable = {
      runs: [card("a", "a")],
      parameters: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`p${String(i).padStart(3, "0")}`, [i]])),
      metrics: {},
    };
    const shown = shownColumns(columnsOf(wide, "last", 0), null);
    expect(shown).toHaveLength(8 + DEFAULT_DATA_COLUMNS);
    expect(shown.at(-1)?.key).toBe(`param:p${String(DEFAULT_DATA_COLUMNS - 1).padStart(3, "0")}`);
  });
});

describe("sorting", () => {
  const columns = columnsOf(table, "last", 0);
  const by = (key: string) => columns.find((c) => c.key === key);

  it("puts empty and NaN cells last in either direction", () => {
    expect(sortRows(3, by("metric:loss"), false)).toEqual([2, 0, 1]);
    expect(sortRows(3, by("metric:loss"), true)).toEqual([0, 2, 1]);
    expect(sortRows(3, by("param:lr"), true)).toEqual([0, 2, 1]);
  });

  it("sorts versions as versions, not as text", () => {
    expect(sortRows(3, by("version"), false)).toEqual([0, 2, 1]);
  });

  it("keeps the table's order without a column", () => {
    expect(sortRows(3, undefined, true)).toEqual([0, 1, 2]);
  });
});

describe("grouping", () => {
  it("puts children right after their parent, nested, and keeps runs in a cycle", () => {
    const family: RunTable = {
      runs: [
        card("child", "child", { parent_uid: "parent" }),
        card("parent", "parent"),
        card("grandchild", "grandchild", { parent_uid: "child" }),
        card("orphan", "orphan", { parent_uid: "gone" }),
        card("x", "x", { parent_uid: "y" }),
        card("y", "y", { parent_uid: "x" }),
      ],
      parameters: {},
      metrics: {},
    };
    const drawn = groupChildren(family, [0, 1, 2, 3, 4, 5]);
    expect(drawn).toEqual([
      { row: 1, depth: 0 },
      { row: 0, depth: 1 },
      { row: 2, depth: 2 },
      { row: 3, depth: 0 },
      { row: 4, depth: 0 },
      { row: 5, depth: 1 },
    ]);
  });
});

describe("virtual rows", () => {
  it("covers the viewport with some rows beyond it, within the table", () => {
    expect(visibleRange(0, 320, 32, 10_000, 2)).toEqual({ first: 0, last: 12 });
    expect(visibleRange(32 * 5000, 320, 32, 10_000, 2)).toEqual({ first: 4998, last: 5012 });
    expect(visibleRange(32 * 9999, 320, 32, 10_000, 2)).toEqual({ first: 9997, last: 10_000 });
    expect(visibleRange(0, 320, 32, 0)).toEqual({ first: 0, last: 0 });
  });

  it("keeps each row in one element of the pool while it stays drawn", () => {
    const pool = poolSize(320, 32, 2);
    const range = visibleRange(0, 320, 32, 10_000, 2);
    expect(range.last - range.first).toBeLessThanOrEqual(pool);
    const rows = (first: number) => Array.from({ length: pool }, (_, slot) => slotRow(slot, first, pool));
    // Every row from `first` is shown, once.
    expect([...rows(0)].sort((a, b) => a - b)).toEqual(Array.from({ length: pool }, (_, i) => i));
    expect([...rows(37)].sort((a, b) => a - b)).toEqual(Array.from({ length: pool }, (_, i) => 37 + i));
    // Scrolling by three rows changes three elements only.
    const before = rows(37);
    const after = rows(40);
    expect(before.filter((row, slot) => after[slot] !== row)).toEqual([37, 38, 39]);
  });
});
