// Panning a chart: drag with Shift (or the middle button) moves its x range; a plain drag
// still selects a range to zoom into, and a double click shows everything again.

import type uPlot from "uplot";

/** The x range after dragging `dxPixels` across a plot `widthPixels` wide showing
 *  `[min, max]`: the data moves with the pointer. */
export function panned(min: number, max: number, dxPixels: number, widthPixels: number): [number, number] {
  if (widthPixels <= 0) return [min, max];
  const shift = (dxPixels / widthPixels) * (max - min);
  return [min - shift, max - shift];
}

/** A uPlot plugin that pans the x scale on Shift-drag or middle-button drag. */
export function panPlugin(): uPlot.Plugin {
  return {
    hooks: {
      ready: [
        (u) => {
          // Captured above the plot's own handler, so that its range selection does not start.
          u.root.addEventListener(
            "mousedown",
            (down) => {
              if (!(down.shiftKey || down.button === 1) || !u.over.contains(down.target as Node)) return;
              const min = u.scales.x?.min;
              const max = u.scales.x?.max;
              if (min === undefined || max === undefined) return;
              down.preventDefault();
              down.stopPropagation();
              const width = u.over.getBoundingClientRect().width;
              const move = (e: MouseEvent) => {
                const [from, to] = panned(min, max, e.clientX - down.clientX, width);
                u.setScale("x", { min: from, max: to });
              };
              const up = () => {
                document.removeEventListener("mousemove", move);
                document.removeEventListener("mouseup", up);
              };
              document.addEventListener("mousemove", move);
              document.addEventListener("mouseup", up);
            },
            { capture: true },
          );
        },
      ],
    },
  };
}
