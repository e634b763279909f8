import type { BenchConfig } from './config.js';
import type { Cleanup } from './lifecycle.js';
import type { MachineInfo } from './machine.js';

export interface ScenarioContext {
  config: BenchConfig;
  machine: MachineInfo;
  /** Undo list of the whole run (LIFO): register children, databases, files here. */
  cleanup: Cleanup;
  /** Where result files go (bench/results). */
  resultsDir: string;
  /** Run id: the start time, ISO, safe for file names. */
  runId: string;
  log(message: string): void;
}

export interface Scenario {
  name: string;
  description: string;
  /** Upper bound of the scenario's wall time; the run's watchdog is the sum of these. */
  budgetMs(config: BenchConfig): number;
  run(ctx: ScenarioContext): Promise<void>;
}
