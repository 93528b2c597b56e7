export { startShopifySim, ShopifySim, type SimCounters } from './server';
export { ShopifySimOptions, ChaosOptions, ThrottleOptions } from './options';
export { OrderSpec, OrderFault, ORDER_FAULTS, type OrderSpecInput } from './order-spec';
export { OrderGenerator, GeneratorOptions } from './generator';
export { SIM_TOPICS, topicEnum, topicFromEnum } from './topics';
export { parseGid } from './store';
