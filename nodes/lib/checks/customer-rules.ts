import { z } from 'zod';
import { CheckMode } from '../node-red/check-node';
import { ApiRoute, configInt, enabledStrategies } from './rule-settings';

/** Ways to find the D365 customer of an order, tried in the configured order. */
export const CustomerStrategyName = z.enum(['email', 'phone', 'shopifyId', 'company', 'countryDefault']);
export type CustomerStrategyName = z.infer<typeof CustomerStrategyName>;

export const CUSTOMER_STRATEGY_LABELS: Record<CustomerStrategyName, string> = {
  email: 'e-mail',
  phone: 'phone',
  shopifyId: 'stored Shopify customer id',
  company: 'B2B company (tax id, then name)',
  countryDefault: 'default customer per country',
};

const identifier = z.string().trim().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'must be a BC field name (letters and digits)');

const Strategy = z.object({ name: CustomerStrategyName, enabled: z.boolean() });

const DefaultCustomer = z.object({
  country: z.string().trim().toUpperCase().regex(/^[A-Z]{2}$/, 'must be a two-letter ISO country code'),
  customer: z.string().trim().min(1, 'customer number is required').max(20, 'BC customer numbers have at most 20 characters'),
});

// Fields of the new customer set by the order itself, or by BC; a template may not override them.
const RESERVED_TEMPLATE_FIELDS = new Set(['id', 'number', 'email', 'displayName', 'blocked', 'lastModifiedDateTime']);
const TemplateField = z.object({
  field: identifier.refine((f) => !RESERVED_TEMPLATE_FIELDS.has(f), { message: 'is set from the order or by D365 and cannot be templated' }),
  value: z.union([z.string(), z.number(), z.boolean()]),
});


export const CustomerRules = z.object({
  mode: CheckMode.default('annotate'),
  strategies: z.array(Strategy).default([
    { name: 'email', enabled: true }, { name: 'phone', enabled: false }, { name: 'shopifyId', enabled: false },
    { name: 'company', enabled: false }, { name: 'countryDefault', enabled: false },
  ]),
  defaultCustomers: z.array(DefaultCustomer).default([]),
  /** Where a stored Shopify customer id lives (BC v2.0 customers have no such field: a custom API page). */
  shopifyIdApi: ApiRoute.default(''),
  shopifyIdEntitySet: z.string().trim().default('customers'),
  shopifyIdField: z.string().trim().default(''),
  /** Order note attribute holding a B2B customer's tax id (Shopify orders have no standard field for it). */
  taxIdAttribute: z.string().trim().default('tax_id'),
  createFromTemplate: z.boolean().default(false),
  template: z.array(TemplateField).default([]),
  cacheTtlS: configInt(0, 86_400, 300),
  cacheSize: configInt(10, 1_000_000, 10_000),
}).superRefine((r, ctx) => {
  const on = enabledStrategies(r.strategies, ctx);
  if (!on.size && !r.createFromTemplate) ctx.addIssue({ code: 'custom', path: ['strategies'], message: 'enable at least one strategy' });
  if (on.has('countryDefault') && !r.defaultCustomers.length) {
    ctx.addIssue({ code: 'custom', path: ['defaultCustomers'], message: 'the default-per-country strategy needs at least one country' });
  }
  const countries = new Set<string>();
  for (const [i, d] of r.defaultCustomers.entries()) {
    if (countries.has(d.country)) ctx.addIssue({ code: 'custom', path: ['defaultCustomers', i, 'country'], message: `country ${d.country} is listed twice` });
    countries.add(d.country);
  }
  if (on.has('shopifyId')) {
    if (!identifier.safeParse(r.shopifyIdField).success) {
      ctx.addIssue({ code: 'custom', path: ['shopifyIdField'], message: 'the stored-Shopify-id strategy needs the BC field that holds the id' });
    }
    if (!identifier.safeParse(r.shopifyIdEntitySet).success) {
      ctx.addIssue({ code: 'custom', path: ['shopifyIdEntitySet'], message: 'must be an entity set name' });
    }
  }
  const fields = new Set<string>();
  for (const [i, t] of r.template.entries()) {
    if (fields.has(t.field)) ctx.addIssue({ code: 'custom', path: ['template', i, 'field'], message: `field ${t.field} is listed twice` });
    fields.add(t.field);
  }
});
export type CustomerRules = z.infer<typeof CustomerRules>;
export type CustomerRulesInput = z.input<typeof CustomerRules>;
