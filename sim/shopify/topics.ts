/** Webhook topics the simulator can emit, and their GraphQL enum names (orders/create ↔ ORDERS_CREATE). */
export const SIM_TOPICS = [
  'orders/create', 'orders/updated', 'orders/paid', 'orders/cancelled', 'orders/fulfilled', 'orders/partially_fulfilled',
  'orders/edited', 'orders/delete', 'refunds/create', 'fulfillments/create', 'fulfillments/update',
  'inventory_levels/update', 'app/uninstalled',
] as const;
export type SimTopic = (typeof SIM_TOPICS)[number];

export const topicEnum = (topic: string) => topic.toUpperCase().replace('/', '_');
const BY_ENUM = new Map<string, SimTopic>(SIM_TOPICS.map((t) => [topicEnum(t), t]));
export const topicFromEnum = (e: string): SimTopic | undefined => BY_ENUM.get(e);
export const isSimTopic = (t: string): t is SimTopic => (SIM_TOPICS as readonly string[]).includes(t);
