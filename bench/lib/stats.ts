/** Summary statistics of latency samples (milliseconds) and small formatting helpers for the tables. */

export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly p99: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
}

/** The q-quantile (0 ≤ q ≤ 1) of ascending `sorted`, by linear interpolation between closest ranks. */
export const quantile = (sorted: readonly number[], q: number): number => {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const a = sorted[lower] ?? Number.NaN;
  const b = sorted[upper] ?? Number.NaN;
  return a + (b - a) * (position - lower);
};

export const median = (samples: readonly number[]): number => quantile([...samples].sort((x, y) => x - y), 0.5);

export const summarize = (samples: readonly number[]): Summary => {
  const sorted = [...samples].sort((x, y) => x - y);
  const sum = sorted.reduce((acc, x) => acc + x, 0);
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
  };
};

/** Milliseconds with a precision that suits the magnitude. */
export const ms = (value: number): string =>
  Number.isNaN(value) ? 'n/a' : value < 10 ? `${value.toFixed(3)} ms` : value < 100 ? `${value.toFixed(1)} ms` : `${value.toFixed(0)} ms`;

export const ratio = (value: number): string =>
  Number.isFinite(value) ? `${value.toFixed(value < 0.1 ? 3 : 2)}×` : 'n/a';

/** Renders rows as a fixed-width text table (first row is the header). */
export const table = (rows: readonly (readonly string[])[]): string => {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const line = (row: readonly string[]): string => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const [header, ...body] = rows;
  if (header === undefined) return '';
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
};

/** Bytes as MiB with one decimal. */
export const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;
/** A rate as `1,234/s`. */
export const perSecond = (value: number): string => `${Math.round(value).toLocaleString('en-US')}/s`;
/** The verdict column of the targets tables. */
export const verdict = (met: boolean): string => (met ? 'MET' : 'NOT MET');
