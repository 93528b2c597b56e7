import { z } from 'zod';

/**
 * A business finding about an order. Findings are not runtime errors: every check appends its
 * findings and the exception router decides. Codes are stable UPPER_SNAKE identifiers.
 */
export const Severity = z.enum(['error', 'warning', 'info']);
export type Severity = z.infer<typeof Severity>;

export const Finding = z.object({
  check: z.string().min(1),
  code: z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'finding codes are UPPER_SNAKE'),
  /** `error` blocks ERP creation; `warning` and `info` do not. */
  severity: Severity,
  message: z.string(),
  /** Where in msg.payload the problem is, e.g. `line_items[2].sku`. */
  path: z.string().optional(),
  /** True when the same order may pass later without a person changing anything (ERP down, throttled). */
  retryable: z.boolean().default(false),
});
export type Finding = z.infer<typeof Finding>;
export type FindingInput = z.input<typeof Finding>;

export function isBlocking(f: Finding): boolean {
  return f.severity === 'error';
}

export function hasBlocking(findings: readonly Finding[] | undefined): boolean {
  return (findings ?? []).some(isBlocking);
}

/** Appends findings to msg.findings (creating it), validating each so a typo'd code fails loudly in tests. */
export function appendFindings(msg: { findings?: unknown }, check: string, findings: readonly Omit<FindingInput, 'check'>[]): Finding[] {
  const list: Finding[] = Array.isArray(msg.findings) ? (msg.findings as Finding[]) : [];
  for (const f of findings) list.push(Finding.parse({ ...f, check }));
  msg.findings = list;
  return list;
}
