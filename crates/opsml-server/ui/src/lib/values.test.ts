import { describe, expect, it } from "vitest";
import { decodeFloat, formatBytes, formatCell, formatDuration, formatNumber } from "./values";
import { readTableState, writeTableState } from "./tablestate";
import { routeOf } from "./router";

describe("values", () => {
  it("decodes the JSON forms of NaN and the infinities", () => {
    expect(decodeFloat("NaN")).toBeNaN();
    expect(decodeFloat("Infinity")).toBe(Infinity);
    expect(decodeFloat("-Infinity")).toBe(-Infinity);
    expect(decodeFloat(null)).toBeNaN();
    expect(decodeFloat(1.5)).toBe(1.5);
  });

  it("formats numbers short but exact enough, and names the special ones", () => {
    expect(formatNumber(0.1 + 0.2)).toBe("0.3");
    expect(formatNumber(123456789012)).toBe("123456789012");
    expect(formatNumber(1e-7)).toBe("1.0000e-7");
    expect(formatNumber(-Infinity)).toBe("-inf");
    expect(formatCell("NaN")).toBe("NaN");
    expect(formatCell(null)).toBe("");
    expect(formatCell(true)).toBe("true");
    expect(formatCell("<b>text</b>")).toBe("<b>text</b>");
  });

  it("formats durations and sizes as the command line does", () => {
    expect(formatDuration(5.25)).toBe("5.3s");
    expect(formatDuration(125)).toBe("2m 05s");
    expect(formatDuration(3 * 3600 + 120)).toBe("3h 02m");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.50 KiB");
    expect(formatBytes(3 * 1024 * 1024)).toBe("3.00 MiB");
  });
});

describe("addresses", () => {
  it("keeps the table's state in the query and reads it back", () => {
    const state = {
      filter: 'params.lr > 0.1 and name = "a&b"',
      sort: "metric:loss",
      descending: true,
      statistic: "min" as const,
      columns: ["param:a,b", "metric:loss"],
    };
    expect(readTableState(writeTableState(state))).toEqual(state);
    expect(readTableState("?stat=bogus").statistic).toBe("last");
    const plain = { filter: "", sort: "", descending: false, statistic: "last" as const, columns: null };
    expect(writeTableState(plain)).toBe("");
    expect(readTableState("").columns).toBeNull();
  });

  it("keeps a choice of no data columns apart from no choice", () => {
    const none = { filter: "", sort: "", descending: false, statistic: "last" as const, columns: [] };
    expect(readTableState(writeTableState(none)).columns).toEqual([]);
  });

  it("routes pages by path", () => {
    expect(routeOf("/", "")).toEqual({ page: "runs" });
    expect(routeOf("/runs/abc%2Fdef", "")).toEqual({ page: "run", uid: "abc/def" });
    expect(routeOf("/compare", "?uid=a&uid=b")).toEqual({ page: "compare", uids: ["a", "b"] });
    expect(routeOf("/compare", "?uid=a&uid=b&uid=a")).toEqual({ page: "compare", uids: ["a", "b"] });
    expect(routeOf("/nowhere", "")).toEqual({ page: "missing" });
  });
});
