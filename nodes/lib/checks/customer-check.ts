import type { Erp, Order } from '../contract';
import type { CheckOutcome } from '../node-red/check-node';
import type { BcCustomer, D365Lookups } from '../d365/lookups';
import { normEmail, normName, normPhone, normTaxId } from '../d365/lookups';
import { lookupFailure, retryableOrThrow } from '../d365/lookups-errors';
import { isThenable } from '../node-red/types';
import type { Maybe } from '../node-red/types';
import type { CustomerRules, CustomerStrategyName } from './customer-rules';

export const CUSTOMER_CHECK = 'd365-customer-matcher';

export type CustomerLookups = Pick<D365Lookups, 'customersByEmail' | 'customersByPhone' | 'customersByNumber' |
  'customersByTaxId' | 'customersByName' | 'customersByCustomField' | 'createCustomer'>
  & Partial<Pick<D365Lookups, 'cachedCustomersByEmail' | 'cachedCustomersByNumber'>>;

export interface CustomerContext {
  lookups: CustomerLookups;
  /** The connection's dry-run switch: never write to D365. */
  dryRun: boolean;
}

type Findings = CheckOutcome['findings'];

/** What one strategy saw: the value it searched for (for messages) and the customers it found. */
interface Attempt {
  matchedBy: string;
  /** e.g. `e-mail bob@example.com` */
  subject: string;
  path: string;
  found: readonly BcCustomer[];
  /** The default-per-country strategy names a customer that D365 does not have. */
  missingDefault?: string;
}

type Strategy = (order: Order, rules: CustomerRules, lookups: CustomerLookups) => Maybe<Attempt | undefined>;

// Very long values are not identifiers worth a D365 query (and would not fit a URL).
const usable = (s: string | null | undefined): s is string => typeof s === 'string' && s.trim().length > 0 && s.length <= 250;

const STRATEGIES: Record<CustomerStrategyName, Strategy> = {
  email(order, _rules, lookups) {
    const path = emailPath(order);
    if (!path) return undefined;
    const value = emailAt(order, path);
    const cached = lookups.cachedCustomersByEmail?.(value);
    if (cached) return emailAttempt(value, path, cached);
    return lookups.customersByEmail([value]).then((byEmail) => emailAttempt(value, path, byEmail.get(normEmail(value)) ?? []));
  },

  async phone(order, _rules, lookups) {
    const [value, path] = firstOf([[order.customer?.phone, 'customer.phone'], [order.phone, 'phone'], [order.billing_address?.phone, 'billing_address.phone']]);
    if (!value || normPhone(value).length < 6) return undefined;
    const found = (await lookups.customersByPhone([value])).get(normPhone(value)) ?? [];
    return { matchedBy: 'phone', subject: `phone ${value.trim()}`, path, found };
  },

  async shopifyId(order, rules, lookups) {
    const id = order.customer?.id;
    if (id === undefined) return undefined;
    const src = { api: rules.shopifyIdApi || undefined, entitySet: rules.shopifyIdEntitySet, field: rules.shopifyIdField };
    const found = (await lookups.customersByCustomField(src, [String(id)])).get(String(id)) ?? [];
    return { matchedBy: 'shopifyId', subject: `Shopify customer id ${id}`, path: 'customer.id', found };
  },

  async company(order, rules, lookups) {
    const idx = order.note_attributes.findIndex((a) => a.name.trim().toLowerCase() === rules.taxIdAttribute.toLowerCase());
    const taxId = idx >= 0 && typeof order.note_attributes[idx]!.value === 'string' ? (order.note_attributes[idx]!.value as string) : undefined;
    if (usable(taxId) && rules.taxIdAttribute) {
      const found = (await lookups.customersByTaxId([taxId])).get(normTaxId(taxId)) ?? [];
      if (found.length) return { matchedBy: 'taxId', subject: `tax id ${taxId.trim()}`, path: `note_attributes[${idx}].value`, found };
    }
    const [name, path] = firstOf([[order.billing_address?.company, 'billing_address.company'], [order.shipping_address?.company, 'shipping_address.company']]);
    if (!name) return undefined;
    // A person who happens to share a company's name is not a B2B match.
    const found = ((await lookups.customersByName([name])).get(normName(name)) ?? []).filter((c) => c.type === undefined || c.type === 'Company');
    return { matchedBy: 'companyName', subject: `company ${name.trim()}`, path, found };
  },

  countryDefault(order, rules, lookups) {
    const [raw, path] = firstOf([[order.shipping_address?.country_code, 'shipping_address.country_code'],
      [order.billing_address?.country_code, 'billing_address.country_code'], [order.customer?.default_address?.country_code, 'customer.default_address.country_code']]);
    const country = raw?.trim().toUpperCase();
    const number = rules.defaultCustomers.find((d) => d.country === country)?.customer;
    if (!number) return undefined;
    const attempt = (found: readonly BcCustomer[]): Attempt => ({ matchedBy: 'countryDefault', subject: `default customer ${number} for country ${country}`,
      path, found, missingDefault: found.length ? undefined : number });
    const cached = lookups.cachedCustomersByNumber?.(number);
    return cached ? attempt(cached) : lookups.customersByNumber([number]).then((byNumber) => attempt(byNumber.get(number.toUpperCase()) ?? []));
  },
};

function firstOf(options: [string | null | undefined, string][]): [string | undefined, string] {
  for (const [v, path] of options) if (usable(v)) return [v, path];
  return [undefined, options[0]![1]];
}

// The order's e-mail, as firstOf would pick it from email, contact_email, customer.email; without its
// arrays, as the e-mail strategy runs for every order.
type EmailPath = 'email' | 'contact_email' | 'customer.email';
function emailPath(order: Order): EmailPath | undefined {
  if (usable(order.email)) return 'email';
  if (usable(order.contact_email)) return 'contact_email';
  return usable(order.customer?.email) ? 'customer.email' : undefined;
}
const emailAt = (order: Order, path: EmailPath): string =>
  (path === 'email' ? order.email : path === 'contact_email' ? order.contact_email : order.customer!.email) as string;
const emailAttempt = (value: string, path: EmailPath, found: readonly BcCustomer[]): Attempt =>
  ({ matchedBy: 'email', subject: `e-mail ${value.trim()}`, path, found });

/** The customers without repeats (by id); a list of one, the usual answer, as it is. */
const distinct = (list: readonly BcCustomer[]): readonly BcCustomer[] =>
  (list.length < 2 ? list : list.filter((c, i) => list.findIndex((o) => o.id === c.id) === i));
const isBlocked = (c: BcCustomer) => c.blocked.trim() !== '';

/**
 * Finds the order's D365 customer by the enabled strategies in order. The first strategy that finds
 * anything decides: one customer is a match; several are CUSTOMER_AMBIGUOUS (never a guess, and no
 * fallback to a default customer). When nothing matches, a customer is created from the template
 * if that is switched on, else CUSTOMER_NOT_FOUND.
 */
export function checkCustomer(order: Order, rules: CustomerRules, ctx: CustomerContext): Maybe<CheckOutcome> {
  return step(order, rules, ctx, 0, []);
}

/** The enabled strategies in order from `from` until one finds someone; synchronous while lookups are cached. */
function step(order: Order, rules: CustomerRules, ctx: CustomerContext, from: number, tried: string[]): Maybe<CheckOutcome> {
  let at = from;
  while (at < rules.strategies.length && !rules.strategies[at]!.enabled) at++;
  const s = rules.strategies[at];
  if (!s) {
    if (rules.createFromTemplate) return createFromTemplate(order, rules, ctx, tried);
    return { findings: [{ code: 'CUSTOMER_NOT_FOUND', severity: 'error', path: 'email',
      message: tried.length ? `no D365 customer matches ${tried.join(', or ')}` : 'the order carries nothing the enabled strategies can match (no e-mail, phone, customer id, company or configured country)' }] };
  }
  let attempt: Maybe<Attempt | undefined>;
  try {
    attempt = STRATEGIES[s.name](order, rules, ctx.lookups);
  } catch (e) {
    return failed(e, s.name);
  }
  if (isThenable(attempt)) {
    return attempt.then((a) => decide(s.name, a, tried) ?? step(order, rules, ctx, at + 1, tried), (e: unknown) => failed(e, s.name));
  }
  return decide(s.name, attempt, tried) ?? step(order, rules, ctx, at + 1, tried);
}

function failed(e: unknown, name: CustomerStrategyName): CheckOutcome {
  const text = retryableOrThrow(e, `D365 customer lookup (${name})`);
  return { findings: [{ code: 'CUSTOMER_LOOKUP_FAILED', severity: 'error', retryable: true, message: `${text}; the order can be retried later` }] };
}

/** What a strategy's attempt decides: the outcome, or undefined to try the next strategy (noted in `tried`). */
function decide(name: CustomerStrategyName, attempt: Attempt | undefined, tried: string[]): CheckOutcome | undefined {
  if (!attempt) return undefined;
  if (attempt.missingDefault) {
    return { findings: [{ code: 'CUSTOMER_NOT_FOUND', severity: 'error', path: attempt.path,
      message: `${tried.length ? `no customer matched (${tried.join('; ')}), and the ` : 'the '}${attempt.subject} does not exist in D365` }] };
  }
  const found = distinct(attempt.found);
  if (!found.length) {
    tried.push(attempt.subject);
    return undefined;
  }
  if (found.length > 1) {
    return { findings: [{ code: 'CUSTOMER_AMBIGUOUS', severity: 'error', path: attempt.path,
      message: `${found.length} D365 customers match ${attempt.subject}: ${found.map((c) => c.number).join(', ')}; link the order to one of them` }] };
  }
  const customer = found[0]!;
  const findings: Findings = [];
  if (isBlocked(customer)) {
    findings.push({ code: 'CUSTOMER_BLOCKED', severity: 'error', path: attempt.path,
      message: `D365 customer ${customer.number} (${customer.displayName}), matched by ${attempt.subject}, is blocked ("${customer.blocked.trim()}")` });
  }
  if (name === 'countryDefault') {
    findings.push({ code: 'CUSTOMER_DEFAULT_USED', severity: 'info', path: attempt.path,
      message: `${tried.length ? `no customer matched (${tried.join('; ')}); ` : ''}used the ${attempt.subject}` });
  }
  return { findings, erp: { customer: erpCustomer(customer, attempt.matchedBy) } };
}

function erpCustomer(c: BcCustomer, matchedBy: string): NonNullable<Erp['customer']> {
  const out: NonNullable<Erp['customer']> = { number: c.number, id: c.id, name: c.displayName, matchedBy };
  if (typeof c.taxLiable === 'boolean') out.taxLiable = c.taxLiable;
  return out;
}

async function createFromTemplate(order: Order, rules: CustomerRules, ctx: CustomerContext, tried: string[]): Promise<CheckOutcome> {
  const at = emailPath(order);
  const path = at ?? 'email';
  const email = at && emailAt(order, at);
  const none = tried.length ? `no D365 customer matches ${tried.join(', or ')}` : 'no D365 customer matched';
  if (!email) {
    return { findings: [{ code: 'CUSTOMER_NOT_FOUND', severity: 'error', path: 'email', message: `${none}, and a customer cannot be created without an e-mail address` }] };
  }
  const body = newCustomerBody(order, rules, email);
  if (ctx.dryRun) {
    return { findings: [{ code: 'CUSTOMER_CREATE_SKIPPED_DRY_RUN', severity: 'warning', path,
      message: `${none}; dry run: would create D365 customer "${String(body.displayName)}" (${email.trim()}) from the template` }] };
  }
  try {
    const created = await ctx.lookups.createCustomer(body, email);
    return {
      findings: [{ code: 'CUSTOMER_CREATED', severity: 'info', path, message: `${none}; created D365 customer ${created.number} for ${email.trim()} from the template` }],
      erp: { customer: erpCustomer(created, 'created') },
    };
  } catch (e) {
    const retryable = (e as { retryable?: unknown }).retryable === true;
    return { findings: [{ code: 'CUSTOMER_CREATE_FAILED', severity: 'error', path, retryable,
      message: `${none}; creating a D365 customer for ${email.trim()} failed: ${lookupFailure(e)}` }] };
  }
}

// BC v2.0 customer text limits (Application_StringExceededLength otherwise).
const LIMITS: Record<string, number> = { displayName: 100, email: 80, phoneNumber: 30, addressLine1: 100, addressLine2: 50, city: 30, state: 30, country: 10, postalCode: 20 };

/** The POST body: template values, overlaid with what the order says about the buyer. */
export function newCustomerBody(order: Order, rules: CustomerRules, email: string): Record<string, unknown> {
  const addr = order.billing_address ?? order.shipping_address ?? order.customer?.default_address ?? undefined;
  const person = [order.customer?.first_name ?? addr?.first_name, order.customer?.last_name ?? addr?.last_name].filter(usable).join(' ');
  const company = usable(addr?.company) ? addr.company : undefined;
  const body: Record<string, unknown> = { type: company ? 'Company' : 'Person' };
  for (const t of rules.template) body[t.field] = t.value;
  const fromOrder: Record<string, string | null | undefined> = {
    displayName: company ?? (person || email.trim()), email: email.trim(), phoneNumber: order.customer?.phone ?? addr?.phone,
    addressLine1: addr?.address1, addressLine2: addr?.address2, city: addr?.city, state: addr?.province_code,
    country: addr?.country_code, postalCode: addr?.zip,
  };
  for (const [k, v] of Object.entries(fromOrder)) if (usable(v)) body[k] = v.trim().slice(0, LIMITS[k]);
  return body;
}
