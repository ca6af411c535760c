/**
 * One fuzz worker thread: takes chunks of input indices for a target, makes each input from
 * (run seed, target, index), runs it, and reports the failures, minimised. Before each input it
 * writes the index and the start time into shared memory, so the main thread can tell a hang
 * (and which input hung) without a message per input.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { failureSignature, isFailure, runInput, type Outcome } from './outcome.js';
import { minimise } from './minimise.js';
import { loadTarget, targetNamed, type LoadedTarget } from './targets.js';

export interface ChunkRequest {
  type: 'chunk';
  target: string;
  runSeed: number;
  from: number;
  to: number;
}

export interface WorkerFailure {
  index: number;
  signature: string;
  outcome: Outcome;
  bytes: Uint8Array;
  originalBytes: number;
}

export interface ChunkResult {
  type: 'done';
  target: string;
  from: number;
  to: number;
  elapsedMs: number;
  failures: WorkerFailure[];
  seeds: number;
}

/** Slot 0: the index being run (-1 idle); slot 1 (as float64 at byte 8): when it started (Date.now()). */
const shared = workerData.progress as SharedArrayBuffer;
const current = new Int32Array(shared, 0, 2);
const startedAt = new Float64Array(shared, 8, 1);

/** Growth of the worker's own heap plus external memory past which one input is a memory finding. */
const MEMORY_GROWTH_LIMIT_BYTES = 1024 * 1024 * 1024;

const loaded = new Map<string, LoadedTarget>();

async function handle(request: ChunkRequest): Promise<ChunkResult> {
  let target = loaded.get(request.target);
  if (target === undefined) {
    target = await loadTarget(targetNamed(request.target));
    loaded.set(request.target, target);
  }
  const failures: WorkerFailure[] = [];
  const started = performance.now();
  const seen = new Set<string>();
  if (target.seeds.length > 0) {
    const baseline = process.memoryUsage();
    for (let index = request.from; index < request.to; index++) {
      const bytes = target.input(request.runSeed, index);
      current[0] = index;
      startedAt[0] = Date.now();
      let outcome = await runInput(target.target, bytes);
      // A fast input cannot have allocated much; only a slow one is worth the memory check.
      if (outcome.ms > 5 && !isFailure(outcome)) {
        const now = process.memoryUsage();
        const growth = now.heapUsed + now.arrayBuffers - (baseline.heapUsed + baseline.arrayBuffers);
        if (growth > MEMORY_GROWTH_LIMIT_BYTES) {
          outcome = { kind: 'untyped-error', name: 'MemoryGrowth', message: `${Math.round(growth / 2 ** 20)} MiB more memory in use after this input`, stack: 'MemoryGrowth', ms: outcome.ms };
        }
      }
      if (!isFailure(outcome)) continue;
      const signature = failureSignature(outcome);
      // One minimised copy per distinct failure per chunk; repeats are counted, not saved.
      const minimised = seen.has(signature) || outcome.kind === 'slow' ? bytes : await minimise(target.target, bytes, signature);
      seen.add(signature);
      failures.push({ index, signature, outcome, bytes: minimised, originalBytes: bytes.length });
    }
  }
  current[0] = -1;
  return { type: 'done', target: request.target, from: request.from, to: request.to, elapsedMs: performance.now() - started, failures, seeds: target.seeds.length };
}

parentPort!.on('message', (request: ChunkRequest) => {
  handle(request).then(
    (result) => parentPort!.postMessage(result),
    (error: unknown) => parentPort!.postMessage({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
