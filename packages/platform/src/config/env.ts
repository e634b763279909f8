import envVar from 'env-var';

export type Env = Readonly<Record<string, string | undefined>>;

/** Raised at boot for any bad setting; the message names the variable (fail fast, once). */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

interface Range {
  min?: number;
  max?: number;
}

/**
 * Typed reads of environment variables, validated once at boot. Each read takes one name or
 * several spellings (the first non-blank wins: `PAYMENT_MOCK_MODE` before `APP_PAYMENT_MOCK_MODE`,
 * Spring's relaxed-binding `APP_OUTBOX_POLLINTERVALMS` after `APP_OUTBOX_POLL_INTERVAL_MS`).
 * Blank counts as unset. Conversion is env-var's; ranges are checked here.
 */
export class EnvReader {
  constructor(readonly env: Env) {}

  /** The first of `names` that is set and not blank, with its name. */
  raw(names: string | readonly string[]): { name: string; value: string } | undefined {
    for (const name of typeof names === 'string' ? [names] : names) {
      const value = this.env[name];
      if (value !== undefined && value.trim() !== '') return { name, value: value.trim() };
    }
    return undefined;
  }

  private read<T>(names: string | readonly string[], convert: (v: envVar.IPresentVariable) => T): T | undefined {
    const found = this.raw(names);
    if (!found) return undefined;
    try {
      return convert(
        envVar
          .from({ [found.name]: found.value })
          .get(found.name)
          .required(),
      );
    } catch (err) {
      throw new ConfigError(`${found.name}: ${(err as Error).message.replace(/^env-var: /, '')}`);
    }
  }

  string(names: string | readonly string[], fallback: string): string {
    return this.read(names, (v) => v.asString()) ?? fallback;
  }

  optionalString(names: string | readonly string[]): string | undefined {
    return this.read(names, (v) => v.asString());
  }

  int(names: string | readonly string[], fallback: number, range: Range = {}): number {
    const value = this.read(names, (v) => v.asInt()) ?? fallback;
    return this.checkRange(names, value, range);
  }

  number(names: string | readonly string[], fallback: number, range: Range = {}): number {
    const value = this.read(names, (v) => v.asFloat()) ?? fallback;
    return this.checkRange(names, value, range);
  }

  bool(names: string | readonly string[], fallback: boolean): boolean {
    return this.read(names, (v) => v.asBoolStrict()) ?? fallback;
  }

  port(names: string | readonly string[], fallback: number): number {
    return this.read(names, (v) => v.asPortNumber()) ?? fallback;
  }

  oneOf<T extends string>(names: string | readonly string[], values: readonly T[], fallback: T): T {
    const found = this.raw(names);
    if (!found) return fallback;
    const match = values.find((v) => v.toLowerCase() === found.value.toLowerCase());
    if (!match) throw new ConfigError(`${found.name}: must be one of ${values.join(', ')}, got "${found.value}"`);
    return match;
  }

  private checkRange(names: string | readonly string[], value: number, { min, max }: Range): number {
    const name = this.raw(names)?.name ?? (typeof names === 'string' ? names : names[0]);
    if (min !== undefined && value < min) throw new ConfigError(`${name}: must be >= ${min}, got ${value}`);
    if (max !== undefined && value > max) throw new ConfigError(`${name}: must be <= ${max}, got ${value}`);
    return value;
  }
}
