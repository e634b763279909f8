import { ConfigError, type EnvReader } from '@ecom/platform';
import type { PaymentPolicy } from './payments/decide-payment.js';
import { parseMockMode } from './payments/mock-mode.js';

/** Everything payment-service reads from the environment (README "Configuration"), once at boot. */
export interface PaymentConfig {
  policy: PaymentPolicy;
  /** Set when the mode variable held an unknown value: §4.1 falls back to SUCCESS; logged at boot. */
  unknownMockMode: { name: string; value: string } | undefined;
}

// The deployment docs' names first: when both spellings are set, PAYMENT_* wins (operations.md §1.5).
// The dash-less relaxed-binding spelling of Spring is accepted last.
export const MOCK_MODE_VARS = ['PAYMENT_MOCK_MODE', 'APP_PAYMENT_MOCK_MODE', 'APP_PAYMENT_MOCKMODE'] as const;
export const FAILURE_REASON_VARS = [
  'PAYMENT_FAILURE_REASON',
  'APP_PAYMENT_FAILURE_REASON',
  'APP_PAYMENT_FAILUREREASON',
] as const;
export const DECLINE_ABOVE_AMOUNT_VAR = 'PAYMENT_DECLINE_ABOVE_AMOUNT';
export const DEFAULT_FAILURE_REASON = 'MOCK_DECLINED';
/** payment_records.reason is VARCHAR(255). */
const REASON_MAX_LENGTH = 255;

export function readPaymentConfig(env: EnvReader): PaymentConfig {
  const rawMode = env.raw(MOCK_MODE_VARS);
  const { mode, known } = parseMockMode(rawMode?.value);

  const failureReason = env.string(FAILURE_REASON_VARS, DEFAULT_FAILURE_REASON);
  if (failureReason.length > REASON_MAX_LENGTH) {
    const name = env.raw(FAILURE_REASON_VARS)?.name ?? FAILURE_REASON_VARS[0];
    throw new ConfigError(`${name}: at most ${REASON_MAX_LENGTH} characters (payment_records.reason)`);
  }

  return {
    policy: { mode, failureReason, declineAboveAmount: readAmount(env, DECLINE_ABOVE_AMOUNT_VAR) },
    unknownMockMode: !known && rawMode ? rawMode : undefined,
  };
}

/** A plain non-negative decimal (`100`, `99.50`); unset or blank = the rule is off. */
function readAmount(env: EnvReader, name: string): number | undefined {
  const found = env.raw(name);
  if (!found) return undefined;
  if (!/^\d{1,15}(\.\d{1,6})?$/.test(found.value)) {
    throw new ConfigError(`${name}: must be a non-negative decimal amount such as 100 or 99.50, got "${found.value}"`);
  }
  return Number(found.value);
}
