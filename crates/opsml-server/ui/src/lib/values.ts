// Values as the pages show them: JSON floats decoded, numbers, times and durations as text.

import type { JsonFloat } from "./types";

/** A JSON float as a number: NaN and the infinities from their strings, null as NaN. */
export function decodeFloat(value: JsonFloat | undefined): number {
  if (typeof value === "number") return value;
  if (value === "Infinity") return Infinity;
  if (value === "-Infinity") return -Infinity;
  return NaN;
}

/** A number in at most 6 significant digits, "NaN", "inf" and "-inf" named as such. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "inf";
  if (value === -Infinity) return "-inf";
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e9)) return value.toExponential(4);
  return String(Number(value.toPrecision(6)));
}

/** A cell of the table as text: an empty one as "". */
export function formatCell(value: JsonFloat | number | string | boolean | null | undefined): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number") return formatNumber(value);
  if (value === "NaN" || value === "Infinity" || value === "-Infinity") {
    return formatNumber(decodeFloat(value));
  }
  return value;
}

/** A duration in seconds as "1h 02m", "3m 04s" or "5.2s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "";
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`;
  return `${m}m ${String(rest).padStart(2, "0")}s`;
}

/** How long a run ran: until it ended, or until `now` while it runs. */
export function runSeconds(createdAt: string, endedAt: string | null, now: number): number {
  const start = Date.parse(createdAt);
  const end = endedAt === null ? now : Date.parse(endedAt);
  return (end - start) / 1000;
}

/** A time as "2026-12-07 06:24:31" in the browser's zone. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** A size in bytes as the command line prints it: "512 B", "1.50 KiB", "2.00 MiB". */
export function formatBytes(bytes: number): string {
  const units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit + 1 < units.length) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(2)} ${units[unit]}`;
}
