-- The W3C traceparent of the unit of work that wrote the row (the HTTP request, or the consumer
-- delivery that reacted), captured in the same transaction. The relay publishes in that trace,
-- so one order is one trace from POST /api/orders through every consumer (telemetry/README.md).
-- NULL when tracing was off at write time: the relay then derives traceparent from the
-- envelope trace_id (spec events.md §7.1). Observation only; nothing reads it for correctness.
ALTER TABLE outbox_events ADD COLUMN IF NOT EXISTS traceparent TEXT;
