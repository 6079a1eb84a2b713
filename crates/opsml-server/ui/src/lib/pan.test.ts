import { describe, expect, it } from "vitest";
import { panned } from "./pan";

describe("panning", () => {
  it("moves the range with the pointer, keeping its width", () => {
    // Dragging right by a quarter of the plot shows data a quarter of the range earlier.
    expect(panned(100, 200, 50, 200)).toEqual([75, 175]);
    expect(panned(100, 200, -50, 200)).toEqual([125, 225]);
  });

  it("leaves the range alone on a plot with no width", () => {
    expect(panned(1, 2, 10, 0)).toEqual([1, 2]);
  });
});
