import { Counter, type Registry } from 'prom-client';
import { assertNever } from './notification.js';
import type { StoreOutcome } from './store-notification.js';

/** notification-service's own series (additive names). */
export interface NotificationMetrics {
  record(source: 'event' | 'synthetic', eventType: string, outcome: StoreOutcome): void;
}

export function createNotificationMetrics(registry: Registry): NotificationMetrics {
  const stored = new Counter({
    name: 'notifications_stored_total',
    help: 'Notifications added to the store, by source (event | synthetic) and event type',
    labelNames: ['source', 'event_type'] as const,
    registers: [registry],
  });
  const duplicates = new Counter({
    name: 'notifications_duplicate_events_total',
    help: 'Payment results whose event_id was already stored (re-published under another message_id)',
    registers: [registry],
  });
  const trimmed = new Counter({
    name: 'notifications_trimmed_total',
    help: 'Older notifications deleted to keep the store at NOTIFICATION_STORE_SIZE',
    registers: [registry],
  });
  duplicates.inc(0);
  trimmed.inc(0);
  return {
    record(source, eventType, outcome) {
      switch (outcome.kind) {
        case 'stored':
          stored.inc({ source, event_type: eventType });
          trimmed.inc(outcome.trimmed);
          return;
        case 'duplicate':
          duplicates.inc();
          return;
        default:
          assertNever(outcome);
      }
    },
  };
}
