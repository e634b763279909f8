/** The slice of a pino logger the transports need; a pino instance satisfies it as is. */
export interface MessagingLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * Default when the caller passes no logger: warnings and errors still reach stderr, because a
 * broker that keeps dropping the connection must never be invisible.
 */
export const consoleLogger: MessagingLogger = {
  debug: () => {},
  info: () => {},
  warn: (obj, msg) => console.warn(`[messaging] ${msg ?? ''}`, obj),
  error: (obj, msg) => console.error(`[messaging] ${msg ?? ''}`, obj),
};

export const silentLogger: MessagingLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
