import type { EnvReader } from '@ecom/platform';

/** Everything notification-service reads from the environment (README "Configuration"), once at boot. */
export interface NotificationConfig {
  /** `NOTIFICATION_STORE_SIZE`: the newest N notifications are kept (the original's 1000). */
  storeSize: number;
}

export const DEFAULT_STORE_SIZE = 1000;

export function readNotificationConfig(env: EnvReader): NotificationConfig {
  return { storeSize: env.int('NOTIFICATION_STORE_SIZE', DEFAULT_STORE_SIZE, { min: 1, max: 1_000_000 }) };
}
