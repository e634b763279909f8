/**
 * What the kernel and the tracing bootstrap share, kept on `globalThis` under a registered
 * symbol: the bootstrap is loaded with `--import` before the application, and a second copy of
 * this module (src/ vs dist/, or a test that imports both) must still see the same registry.
 * Nothing here imports the OpenTelemetry SDK; the kernel only ever touches @opentelemetry/api.
 */
export interface TelemetryState {
  /** Set by the bootstrap once its TracerProvider is registered. */
  enabled: boolean;
  /** `http.Server` → the service it serves: names the HTTP spans of the all-in-one process. */
  readonly servers: WeakMap<object, string>;
  /** Services started in this process (createService), in start order, with their versions. */
  readonly services: Map<string, { version?: string }>;
  /**
   * Installed by the bootstrap: the next ROOT span started in the same synchronous run gets this
   * trace id (32 hex) instead of a random one. See id-generator.ts.
   */
  adoptTraceId?: (hex: string) => void;
  /** Installed by the bootstrap: export what is buffered, then stop the provider. */
  shutdown?: (timeoutMs: number) => Promise<void>;
}

const KEY = Symbol.for('@ecom/platform.telemetry');

export function telemetryState(): TelemetryState {
  const holder = globalThis as { [KEY]?: TelemetryState };
  holder[KEY] ??= { enabled: false, servers: new WeakMap(), services: new Map() };
  return holder[KEY];
}
