export * from './auth/index.js';
export * from './cache/index.js';
export { type CommonConfig, type DatabaseConfig, readCommonConfig, readDatabaseConfig } from './config/common.js';
export { ConfigError, type Env, EnvReader } from './config/env.js';
export type { Database, Queryable } from './db/database.js';
export { queryEach, type Statement, writeAtCommit } from './db/database.js';
export { isDatabaseUnavailable } from './db/errors.js';
export { listMigrations, migrate } from './db/migrate.js';
export { acquirePgliteHost, type PgliteHost } from './db/pglite.js';
export { openPostgres, quoteIdent, withTimeout } from './db/postgres.js';
export { describeTarget, type PgTarget, parseDatabaseUrl } from './db/url.js';
export { checkHealth, type HealthIndicator, type HealthReport, type HealthStatus } from './health.js';
export { buildHttpApp, type HttpApp } from './http/app.js';
export {
  AppError,
  type ErrorBody,
  type ErrorKind,
  ErrorResponse,
  errorBody,
  type FieldError,
  offsetTimestamp,
} from './http/errors.js';
export { JSON_MAX_DEPTH, type RouteRateLimit, rateLimitConfig, STRICT_UUID } from './http/hardening.js';
export { createRegistry, HTTP_BUCKETS_SECONDS, uriTemplate } from './http/metrics.js';
export { TRACE_ID_MAX_LENGTH, traceIdFrom } from './http/trace-id.js';
export { serviceLogger } from './logger.js';
export {
  type ConsumerDefinition,
  type EventHandler,
  type HandlerContext,
  PermanentError,
} from './messaging/consumer.js';
export { type DlqAuditRow, type DlqMessage, discardDlq, dlqAudit, listDlq, replayDlq } from './messaging/dlq.js';
export * from './messaging/index.js';
export {
  createOutbox,
  eventMessage,
  type Outbox,
  type OutboxRelay,
  type OutboxRowValues,
  startOutboxRelay,
  traceparentFor,
} from './messaging/outbox.js';
export { fallbackTopology, mergeTopologies } from './messaging/pipeline-topology.js';
export { type MessagingConfig, type MessagingDefinition, readMessagingConfig } from './messaging/runtime.js';
export {
  type CreateServiceOptions,
  createService,
  type Service,
  type ServiceDeps,
  type ServiceModule,
  stopOnSignals,
} from './service.js';
export {
  activeSpanTraceId,
  activeTraceUuid,
  registerServiceTelemetry,
  shutdownTelemetry,
  traceIdAsUuid,
} from './telemetry/context.js';
export { isoMillis } from './time.js';
