import { z } from 'zod';
import { toMinor } from '../contract';
import type { Finding, Order } from '../contract';

/**
 * Exception-routing rules, evaluated in order like the core Switch node's rules. A rule matches
 * either findings (by code/pattern, check, severity, retryable) or order facts (tag, total, country,
 * channel), and names an action. Pure logic: no Node-RED, no I/O.
 */
export const RuleWhen = z.enum(['code', 'check', 'severity', 'retryable', 'blocking', 'tag', 'total_gt', 'country', 'channel']);
export const RuleAction = z.enum(['output', 'hold', 'retry', 'continue']);
export type RuleAction = z.infer<typeof RuleAction>;

export const Rule = z.object({
  name: z.string().trim().min(1, 'every rule needs a name').max(40),
  when: RuleWhen,
  value: z.string().default(''),
  action: RuleAction,
}).superRefine((r, ctx) => {
  if (['code', 'check', 'severity', 'tag', 'country', 'channel'].includes(r.when) && !r.value.trim()) {
    ctx.addIssue({ code: 'custom', message: `rule "${r.name}": a value is required for "${r.when}"`, path: ['value'] });
  }
  if (r.when === 'severity' && r.value && !['error', 'warning', 'info'].includes(r.value)) {
    ctx.addIssue({ code: 'custom', message: `rule "${r.name}": severity must be error, warning or info`, path: ['value'] });
  }
  if (r.when === 'total_gt' && !/^\d+(\.\d+)?$/.test(r.value.trim())) {
    ctx.addIssue({ code: 'custom', message: `rule "${r.name}": total threshold must be a decimal amount`, path: ['value'] });
  }
});
export type Rule = z.infer<typeof Rule>;

export const FINDING_RULES = new Set(['code', 'check', 'severity', 'retryable', 'blocking']);

export type Decision =
  | { action: 'clean'; waived: Finding[]; waivedBy: string[] }
  | { action: 'output'; rule: Rule; output: number; waived: Finding[]; waivedBy: string[] }
  | { action: 'hold' | 'retry'; rule?: Rule; reason: string; waived: Finding[]; waivedBy: string[] };

/** Glob on finding codes: `SKU_*`, `*_MISMATCH`, exact otherwise. */
export function codeMatches(pattern: string, code: string): boolean {
  const p = pattern.trim().toUpperCase();
  if (!p.includes('*')) return p === code;
  const re = new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(code);
}

function findingMatches(rule: Rule, f: Finding): boolean {
  switch (rule.when) {
    case 'code': return rule.value.split(',').some((p) => codeMatches(p, f.code));
    case 'check': return rule.value.split(',').some((c) => c.trim() === f.check);
    case 'severity': return f.severity === rule.value.trim();
    case 'retryable': return f.retryable && f.severity === 'error';
    case 'blocking': return f.severity === 'error';
    default: return false;
  }
}

function factMatches(rule: Rule, order: Order | undefined): boolean {
  if (!order) return false;
  const v = rule.value.trim();
  switch (rule.when) {
    case 'tag': return order.tags.split(',').map((t) => t.trim().toLowerCase()).includes(v.toLowerCase());
    case 'total_gt': return toMinor(order.total_price) > toMinor(v);
    case 'country': {
      const c = (order.shipping_address?.country_code ?? order.billing_address?.country_code ?? '').toUpperCase();
      return v.toUpperCase().split(',').map((s) => s.trim()).includes(c);
    }
    case 'channel': return (order.source_name ?? '') === v;
    default: return false;
  }
}

/**
 * Decides an order's route. Rules run in order; `continue` rules waive the blocking findings they
 * match (downgraded to warnings, so the writer's guard lets the order through) and evaluation goes on;
 * the first other matching rule decides. Blocking findings no rule dealt with fall to `fallback`
 * (hold by default): nothing with an unresolved blocking finding reaches the clean output.
 */
export function decide(order: Order | undefined, findings: readonly Finding[], rules: readonly Rule[],
  fallback: 'hold' = 'hold'): { decision: Decision; findings: Finding[] } {
  const out = findings.map((f) => ({ ...f }));
  const waived: Finding[] = [];
  const waivedBy: string[] = [];
  let outputIndex = 0;
  for (const rule of rules) {
    const isOutput = rule.action === 'output';
    const thisOutput = outputIndex;
    if (isOutput) outputIndex++;
    let matched: Finding[] = [];
    let hit: boolean;
    if (FINDING_RULES.has(rule.when)) {
      // Finding rules only look at what still blocks or, for severity rules, at any severity asked for.
      matched = out.filter((f) => (f.severity === 'error' || rule.when === 'severity') && findingMatches(rule, f));
      hit = matched.length > 0;
    } else {
      hit = factMatches(rule, order);
    }
    if (!hit) continue;
    if (rule.action === 'continue') {
      for (const f of matched) {
        if (f.severity !== 'error') continue;
        f.severity = 'warning';
        f.message = `${f.message} (waived by rule "${rule.name}")`;
        waived.push(f);
      }
      waivedBy.push(rule.name);
      continue;
    }
    if (rule.action === 'output') return { decision: { action: 'output', rule, output: thisOutput, waived, waivedBy }, findings: out };
    return { decision: { action: rule.action, rule, reason: describe(rule, matched), waived, waivedBy }, findings: out };
  }
  const blocking = out.filter((f) => f.severity === 'error');
  if (blocking.length) {
    return {
      decision: { action: fallback, reason: `no rule handled ${blocking.map((f) => f.code).join(', ')}`, waived, waivedBy },
      findings: out,
    };
  }
  return { decision: { action: 'clean', waived, waivedBy }, findings: out };
}

function describe(rule: Rule, matched: Finding[]): string {
  if (matched.length) return `rule "${rule.name}": ${[...new Set(matched.map((f) => f.code))].join(', ')}`;
  return `rule "${rule.name}" (${rule.when}${rule.value ? ` ${rule.value}` : ''})`;
}

/** "30s, 5m, 1h" → milliseconds. */
export function parseSchedule(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter(Boolean);
  return parts.map((p) => {
    const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/.exec(p);
    if (!m) throw new Error(`retry schedule: "${p}" is not a duration like 30s, 5m or 1h`);
    const n = Number(m[1]);
    return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h']);
  });
}

/** Names of the outputs after "clean": one per output rule, in order. */
export function outputRuleNames(rules: readonly Rule[]): string[] {
  return rules.filter((r) => r.action === 'output').map((r) => r.name);
}
