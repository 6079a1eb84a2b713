// A run's hardware samples as charts: one panel per quantity, its lines over seconds since the
// first sample; a quantity no sample has is left out, and a GPU gets panels of its own.

import type { HardwareSample } from "./types";

export interface HardwarePanel {
  title: string;
  /** How the axis reads. */
  unit: "percent" | "bytes" | "bytes/s" | "count";
  labels: string[];
  /** Seconds since the first sample, then one column per label (null where unread). */
  data: [number[], ...(number | null)[][]];
}

type Reading = (sample: HardwareSample) => number | null | undefined;

function panel(
  samples: HardwareSample[],
  xs: number[],
  title: string,
  unit: HardwarePanel["unit"],
  lines: [string, Reading][],
): HardwarePanel | null {
  const columns = lines.map(([, read]) => samples.map((s) => read(s) ?? null));
  const kept = lines.map((_, i) => i).filter((i) => columns[i]?.some((v) => v !== null));
  if (kept.length === 0) return null;
  return {
    title,
    unit,
    labels: kept.map((i) => lines[i]?.[0] ?? ""),
    data: [xs, ...kept.map((i) => columns[i] ?? [])],
  };
}

export function hardwarePanels(samples: HardwareSample[]): HardwarePanel[] {
  if (samples.length === 0) return [];
  const start = samples[0]?.timestamp ?? 0;
  const xs = samples.map((s) => (s.timestamp - start) / 1e6);
  const gpuIndices = [...new Set(samples.flatMap((s) => s.gpus.map((g) => g.index)))].sort((a, b) => a - b);
  const gpu = (index: number) => (s: HardwareSample) => s.gpus.find((g) => g.index === index);
  const panels = [
    panel(samples, xs, "CPU", "percent", [
      ["host (% of all cores)", (s) => s.cpu_percent],
      ["process tree (% of one core)", (s) => s.process?.cpu_percent],
    ]),
    panel(samples, xs, "Memory", "bytes", [
      ["host used", (s) => s.memory_used_bytes],
      ["process tree resident", (s) => s.process?.rss_bytes],
    ]),
    panel(samples, xs, "Processes and threads", "count", [
      ["processes", (s) => s.process?.processes],
      ["threads", (s) => s.process?.threads],
    ]),
    panel(samples, xs, "Disk (process tree)", "bytes/s", [
      ["read", (s) => s.disk?.read_bytes_per_second],
      ["written", (s) => s.disk?.write_bytes_per_second],
    ]),
    panel(samples, xs, "Network (host)", "bytes/s", [
      ["received", (s) => s.network?.read_bytes_per_second],
      ["sent", (s) => s.network?.write_bytes_per_second],
    ]),
    ...gpuIndices.flatMap((index) => [
      panel(samples, xs, `GPU ${index} utilisation`, "percent", [
        ["utilisation", (s) => gpu(index)(s)?.utilization_percent],
      ]),
      panel(samples, xs, `GPU ${index} memory`, "bytes", [
        ["used", (s) => gpu(index)(s)?.memory_used_bytes],
        ["total", (s) => gpu(index)(s)?.memory_total_bytes],
      ]),
    ]),
  ];
  return panels.filter((p): p is HardwarePanel => p !== null);
}
