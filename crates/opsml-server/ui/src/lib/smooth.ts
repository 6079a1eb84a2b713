// Series transforms of the charts: exponential moving average smoothing, and values a chart
// can draw (NaN and the infinities become gaps, counted so the page can say so).

/** The exponential moving average of `values` with weight `weight` (0 leaves them as they
 *  are), debiased as TensorBoard does so the first points are not pulled toward 0. A NaN or
 *  infinite point stays a gap and does not enter the average. */
export function ema(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values.slice();
  let last = 0;
  let seen = 0;
  return values.map((value) => {
    if (value === null || !Number.isFinite(value)) return null;
    last = last * weight + (1 - weight) * value;
    seen += 1;
    return last / (1 - Math.pow(weight, seen));
  });
}

/** Values a chart draws: NaN and ±inf as gaps (null). */
export function drawable(values: number[]): (number | null)[] {
  return values.map((v) => (Number.isFinite(v) ? v : null));
}
