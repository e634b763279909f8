import pino, { type Logger } from 'pino';

let root: Logger | undefined;

/**
 * One root logger per process (the all-in-one embedded mode runs six services in one process;
 * one destination keeps lines whole), one child per service with `service` set.
 * JSON lines: `level` as text, `message`, `trace_id` on every request line (operations.md §1.8).
 */
export function serviceLogger(service: string, opts: { level: string; format: 'json' | 'pretty' }): Logger {
  root ??= pino({
    level: opts.level,
    messageKey: 'message',
    formatters: { level: (label) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'password', '*.password'], censor: '[redacted]' },
    ...(opts.format === 'pretty'
      ? { transport: { target: 'pino-pretty', options: { messageKey: 'message', translateTime: 'SYS:HH:MM:ss.l' } } }
      : {}),
  });
  return root.child({ service });
}
