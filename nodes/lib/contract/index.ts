export * from './money';
export * from './order';
export * from './refund';
export * from './fulfillment';
export * from './inventory-level';
export * from './finding';
export * from './message';
