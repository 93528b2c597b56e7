import { z } from 'zod';

// Config pieces the strategy-based D365 checks (customer matcher, SKU validator) share.

/** `publisher/group/version` of a custom API; empty = standard v2.0. */
export const ApiRoute = z.string().trim().regex(/^([A-Za-z0-9_-]+\/[A-Za-z0-9_-]+\/v\d+\.\d+)?$/, 'must look like publisher/group/v1.0');

// The editor saves numbers as strings and a cleared field as ''; both mean "the default" or a number.
export const configInt = (min: number, max: number, def: number) => z.union([z.string(), z.number()]).nullish()
  .transform((v) => (v === '' || v === undefined || v === null ? def : Number(v))).pipe(z.number({ error: 'must be a number' })
  .int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

/** Flags a strategy listed twice (path `strategies[i]`); returns the names of the enabled ones. */
export function enabledStrategies<N extends string>(strategies: readonly { name: N; enabled: boolean }[], ctx: z.RefinementCtx): Set<N> {
  const seen = new Set<N>();
  for (const [i, s] of strategies.entries()) {
    if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: ['strategies', i], message: `strategy ${s.name} is listed twice` });
    seen.add(s.name);
  }
  return new Set(strategies.filter((s) => s.enabled).map((s) => s.name));
}
