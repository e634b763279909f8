import type { ServiceModule } from '@ecom/platform';

/**
 * Every service of the platform, by short name, in start order. The list grows as services
 * land; `npm start` runs all of them unless SERVICES names a subset.
 */
export const SERVICES: Record<string, () => Promise<ServiceModule<never>>> = {
  auth: async () => (await import('@ecom/auth-service')).authService as ServiceModule<never>,
  catalog: async () => (await import('@ecom/catalog-service')).catalogService as ServiceModule<never>,
  order: async () => (await import('@ecom/order-service')).createOrderService() as ServiceModule<never>,
  inventory: async () => (await import('@ecom/inventory-service')).createInventoryService() as ServiceModule<never>,
  payment: async () => (await import('@ecom/payment-service')).createPaymentService() as ServiceModule<never>,
  notification: async () =>
    (await import('@ecom/notification-service')).createNotificationService() as ServiceModule<never>,
};

/**
 * The `<PREFIX>_DB_URL` prefix of each service that has a database (its module's
 * `database.envPrefix`; services.unit.test.ts keeps the two equal). `npm start` reads it before
 * loading any service module, to start opening the embedded database early when one will use it.
 */
export const DATABASE_PREFIX: Record<string, string | undefined> = {
  auth: undefined,
  catalog: 'CATALOG',
  order: 'ORDER',
  inventory: 'INVENTORY',
  payment: 'PAYMENT',
  notification: 'NOTIFICATION',
};
