import { describe, expect, it } from "vitest";
import { hardwarePanels } from "./hardware";
import type { HardwareSample } from "./types";

function sample(seconds: number, extra: Partial<HardwareSample> = {}): HardwareSample {
  return {
    timestamp: 1_000_000_000 + seconds * 1e6,
    cpu_percent: 10 * seconds,
    memory_used_bytes: 1000,
    memory_total_bytes: 4000,
    process: null,
    disk: null,
    network: null,
    gpus: [],
    ...extra,
  };
}

describe("hardware panels", () => {
  it("plots each read quantity over seconds since the first sample and leaves out unread ones", () => {
    const panels = hardwarePanels([sample(0), sample(2, { cpu_percent: null })]);
    expect(panels.map((p) => p.title)).toEqual(["CPU", "Memory"]);
    expect(panels[0]?.data).toEqual([[0, 2], [0, null]]);
    expect(panels[0]?.labels).toEqual(["host (% of all cores)"]);
    expect(hardwarePanels([])).toEqual([]);
  });

  it("gives each GPU panels of its own", () => {
    const gpu = (index: number, used: number) => ({
      index,
      name: "H100",
      utilization_percent: 50 + index,
      memory_used_bytes: used,
      memory_total_bytes: 80,
    });
    const panels = hardwarePanels([sample(0, { gpus: [gpu(0, 1), gpu(1, 2)] }), sample(1, { gpus: [gpu(1, 3)] })]);
    const titles = panels.map((p) => p.title);
    expect(titles).toContain("GPU 1 memory");
    const util0 = panels.find((p) => p.title === "GPU 0 utilisation");
    expect(util0?.data).toEqual([[0, 1], [50, null]]);
  });
});
