/** Worker-thread entry of the fuzzer: runs `workerData` (a FuzzRun) and posts the FuzzResult back. */
import { parentPort, workerData } from 'node:worker_threads';
import { type FuzzRun, runFuzz } from './fuzz-runner.js';

parentPort?.postMessage(await runFuzz(workerData as FuzzRun));
