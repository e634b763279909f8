import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { postgresVersion } from './pg-admin.js';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  platform: string;
  arch: string;
  totalMemGiB: number;
  node: string;
  postgres: string;
  /** 1/5/15-minute load average when the run started: a busy box skews every number. */
  loadAvgAtStart: number[];
}

export async function machineInfo(): Promise<MachineInfo> {
  const cpu = cpus();
  return {
    cores: cpu.length,
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    platform: `${platform()} ${release()}`,
    arch: arch(),
    totalMemGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres: await postgresVersion(),
    loadAvgAtStart: loadavg().map((v) => Math.round(v * 100) / 100),
  };
}
