/**
 * Tracing bootstrap: load it with `--import` BEFORE the application, e.g.
 *
 *   node --conditions=source --import tsx --import ./packages/platform/telemetry/register.mjs scripts/start.ts
 *   node --import /app/packages/platform/telemetry/register.mjs services/order/dist/main.js
 *
 * Why a flag and not an import in main.ts: ESM links the whole import graph before any module
 * runs, so pg, amqplib, http, ioredis and pino would be loaded before an instrumentation could
 * patch them. Plain JavaScript on purpose: it runs without a build (src/ under tsx with
 * `--conditions=source`, dist/ otherwise — whichever the kernel itself resolves to).
 *
 * OTEL_SDK_DISABLED=true makes it a no-op: no loader hook, no SDK; the kernel's tracing calls stay
 * no-ops of @opentelemetry/api. Everything else is in src/telemetry/ (README.md there).
 */
import { register } from 'node:module';

const disabled = (process.env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true';

if (!disabled) {
  // import-in-the-middle, for the instrumentations that only work on ESM imports (ioredis and
  // pino, stack.md). Limited to those: every other module loads exactly as without tracing
  // (pg, amqplib and http are patched through require hooks; fastify via diagnostics_channel).
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
    data: { include: ['ioredis', 'pino'] },
  });
  // src/index.ts under --conditions=source, dist/index.js otherwise: load the SDK from the same tree.
  const kernel = import.meta.resolve('@ecom/platform');
  const sdk = new URL(kernel.endsWith('.ts') ? './telemetry/sdk.ts' : './telemetry/sdk.js', kernel);
  let startTelemetry;
  try {
    ({ startTelemetry } = await import(sdk.href));
  } catch (err) {
    if (err?.code === 'ERR_UNKNOWN_FILE_EXTENSION') {
      console.error(
        'telemetry: the TypeScript sources need tsx first: node --conditions=source --import tsx --import …/register.mjs',
      );
      process.exit(2);
    }
    throw err;
  }
  try {
    await startTelemetry(process.env);
  } catch (err) {
    if (err?.name !== 'ConfigError') throw err;
    // Same rule as the services' own settings: fail at boot, naming the variable.
    console.error(`telemetry: ${err.message}`);
    process.exit(2);
  }
}
