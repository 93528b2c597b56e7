/** One line of the benchmark table: a figure, the baseline measured in the same run, the target and the verdict. */
export interface Row {
  figure: string;
  value: string;
  baseline: string;
  target: string;
  /** undefined: the figure could not be measured in this run (see note). */
  pass?: boolean;
  note?: string;
  /** The raw numbers behind the row, for bench-results.json. */
  data?: Record<string, unknown>;
}

const verdict = (r: Row) => (r.pass === undefined ? 'ERROR' : r.pass ? 'PASS' : 'MISS');

/** The table as plain text (monospace, fits a README code block). */
export function formatTable(rows: readonly Row[]): string {
  const head = ['Figure', 'Measured', 'Baseline (same run)', 'Target', ''];
  const body = rows.map((r) => [r.figure, r.value, r.baseline, r.target, verdict(r)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ').trimEnd();
  const notes = rows.filter((r) => r.note).map((r) => `- ${r.figure}: ${r.note}`);
  return [line(head), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line), '', ...notes].join('\n');
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
