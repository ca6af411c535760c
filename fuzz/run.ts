/**
 * `npm run fuzz`: every target (or --target NAME,...) run to --inputs N generated inputs
 * (default 1,000,000) on --workers threads (default: every core). Resumable: per target, the
 * run seed and how many inputs are done are saved in <cache>/fuzz/state.json, and input N is a
 * pure function of (seed, target, N), so an interrupted run continues where it stopped. Each
 * failing input is saved, minimised, in <cache>/fuzz/findings/<target>/<sha256>.bin with a
 * .json saying what it did; a hang is caught by a watchdog that ends the stuck worker.
 *
 *   node dist/fuzz/run.js [--target a,b] [--inputs N] [--workers N] [--seed N] [--minutes M]
 *   node dist/fuzz/run.js --list      the targets
 *   node dist/fuzz/run.js --report    the saved progress as a Markdown table (for fuzz/RESULTS.md)
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { fuzzCacheDir } from './artefacts.js';
import { INPUT_TIME_BUDGET_MS, type Outcome } from './outcome.js';
import { loadTarget, TARGETS, targetNamed } from './targets.js';
import type { ChunkRequest, ChunkResult, WorkerFailure } from './worker.js';

const { values } = parseArgs({
  options: {
    target: { type: 'string', multiple: true },
    inputs: { type: 'string', default: '1000000' },
    workers: { type: 'string', default: String(os.availableParallelism()) },
    seed: { type: 'string', default: '1' },
    minutes: { type: 'string' },
    list: { type: 'boolean', default: false },
    report: { type: 'boolean', default: false },
  },
});

if (values.list) {
  for (const target of TARGETS) console.log(`${target.name.padEnd(18)} ${target.description}`);
  process.exit(0);
}

const INPUTS = Number(values.inputs);
const WORKERS = Math.max(1, Number(values.workers));
const RUN_SEED = Number(values.seed) >>> 0;
const DEADLINE = values.minutes === undefined ? Infinity : Date.now() + Number(values.minutes) * 60_000;
/** A worker silent on one input this long past the budget is stuck: it is ended and the input kept. */
const HANG_AFTER_MS = INPUT_TIME_BUDGET_MS + 8000;
/** Slow inputs saved per target (each may be its own cause; the count goes on). */
const MAX_SLOW_FINDINGS = 20;
/** Each chunk should take about this long: short enough to save often, long enough to be cheap. */
const CHUNK_TARGET_MS = 2000;

const names = (values.target ?? []).flatMap((value) => value.split(',')).filter((name) => name !== '');
const selected = names.length === 0 ? [...TARGETS] : names.map(targetNamed);

interface TargetState {
  seed: number;
  /** Every input index below this has run. */
  done: number;
  /** Worker time spent on this target, ms (summed over workers). */
  timeMs: number;
  /** Failures by signature: how many inputs hit each. */
  failures: Record<string, number>;
  /** Saved finding files (relative to the findings directory). */
  findings: string[];
  seeds?: number;
  updated?: string;
}

interface State {
  version: 1;
  targets: Record<string, TargetState>;
}

const stateFile = path.join(fuzzCacheDir(), 'state.json');
const findingsDir = path.join(fuzzCacheDir(), 'findings');

function loadState(): State {
  try {
    const parsed = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as State;
    if (parsed.version === 1) return parsed;
  } catch {
    // No state yet, or unreadable: start afresh.
  }
  return { version: 1, targets: {} };
}

function saveState(state: State): void {
  fs.mkdirSync(path.dirname(stateFile), { recursive: true });
  const temporary = `${stateFile}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  fs.renameSync(temporary, stateFile);
}

const state = loadState();

if (values.report) {
  console.log('| target | inputs | distinct failures | failing inputs | worker time |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const target of TARGETS) {
    const entry = state.targets[target.name];
    if (entry === undefined) continue;
    const failing = Object.values(entry.failures).reduce((sum, count) => sum + count, 0);
    console.log(`| ${target.name} | ${entry.done.toLocaleString('en-US')} | ${Object.keys(entry.failures).length} | ${failing} | ${(entry.timeMs / 1000).toFixed(0)} s |`);
  }
  process.exit(0);
}

/** Per target: the next index to hand out, chunks handed out and not back, and chunks back beyond `done`. */
interface Progress {
  name: string;
  next: number;
  inFlight: Map<number, number>;
  completed: Map<number, number>;
  rate: number | undefined;
  seeds: number | undefined;
}

const progress = new Map<string, Progress>();
for (const target of selected) {
  let entry = state.targets[target.name];
  if (entry === undefined || entry.seed !== RUN_SEED) {
    if (entry !== undefined) console.log(`${target.name}: saved progress was for seed ${entry.seed}; starting seed ${RUN_SEED} afresh`);
    entry = { seed: RUN_SEED, done: 0, timeMs: 0, failures: {}, findings: [] };
    state.targets[target.name] = entry;
  }
  progress.set(target.name, { name: target.name, next: entry.done, inFlight: new Map(), completed: new Map(), rate: undefined, seeds: entry.seeds });
}

function advance(entry: TargetState, target: Progress): void {
  for (;;) {
    const end = target.completed.get(entry.done);
    if (end === undefined) break;
    target.completed.delete(entry.done);
    entry.done = end;
  }
}

/** The unfinished target with the least worker time so far: each gets a fair share, fast ones finish first. */
function nextChunk(): ChunkRequest | undefined {
  if (Date.now() > DEADLINE) return undefined;
  let best: Progress | undefined;
  for (const target of progress.values()) {
    if (target.next >= INPUTS || target.seeds === 0) continue;
    if (best === undefined || state.targets[target.name]!.timeMs < state.targets[best.name]!.timeMs) best = target;
  }
  if (best === undefined) return undefined;
  const size = Math.max(10, Math.min(20_000, best.rate === undefined ? 50 : Math.round(best.rate * CHUNK_TARGET_MS)));
  const from = best.next;
  const to = Math.min(INPUTS, from + size);
  best.next = to;
  best.inFlight.set(from, to);
  // Charge the expected time now, so the next pick already sees this chunk.
  state.targets[best.name]!.timeMs += best.rate === undefined ? CHUNK_TARGET_MS : (to - from) / best.rate;
  return { type: 'chunk', target: best.name, runSeed: RUN_SEED, from, to };
}

function saveFinding(targetName: string, failure: Pick<WorkerFailure, 'index' | 'signature' | 'outcome' | 'bytes' | 'originalBytes'>): string {
  const digest = createHash('sha256').update(failure.bytes).digest('hex').slice(0, 16);
  const dir = path.join(findingsDir, targetName);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${digest}.bin`);
  fs.writeFileSync(file, failure.bytes);
  const { outcome } = failure;
  fs.writeFileSync(
    path.join(dir, `${digest}.json`),
    `${JSON.stringify({ target: targetName, seed: RUN_SEED, index: failure.index, signature: failure.signature, outcome, inputBytes: failure.originalBytes, savedBytes: failure.bytes.length, found: new Date().toISOString() }, null, 2)}\n`,
  );
  return path.relative(findingsDir, file);
}

function describeOutcome(outcome: Outcome): string {
  if (outcome.kind === 'untyped-error') return `${outcome.name}: ${outcome.message.split('\n')[0]}`;
  if (outcome.kind === 'slow') return `took ${Math.round(outcome.ms)} ms (budget ${INPUT_TIME_BUDGET_MS})`;
  return outcome.kind;
}

function recordFailure(targetName: string, failure: Pick<WorkerFailure, 'index' | 'signature' | 'outcome' | 'bytes' | 'originalBytes'>): void {
  const entry = state.targets[targetName]!;
  const count = (entry.failures[failure.signature] ?? 0) + 1;
  entry.failures[failure.signature] = count;
  // One file per distinct exception; slow inputs share one signature but rarely one cause, so
  // the first few of them are all kept.
  if (count > (failure.signature === 'slow' ? MAX_SLOW_FINDINGS : 1)) return;
  const file = saveFinding(targetName, failure);
  entry.findings.push(file);
  console.log(`FAILURE ${targetName} #${failure.index}: ${describeOutcome(failure.outcome)}\n  ${failure.signature}\n  saved ${path.join(findingsDir, file)} (${failure.bytes.length} bytes)`);
}

interface Slot {
  worker: Worker;
  progress: SharedArrayBuffer;
  chunk: ChunkRequest | undefined;
  chunkStarted: number;
}

const workerFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.js');
const slots: Slot[] = [];
let stopping = false;
let finished: () => void;
const allDone = new Promise<void>((resolve) => {
  finished = resolve;
});

function spawn(): Slot {
  const shared = new SharedArrayBuffer(16);
  new Int32Array(shared, 0, 1)[0] = -1;
  // The heap cap makes a runaway allocation a worker death we can see, not the machine's.
  const worker = new Worker(workerFile, { workerData: { progress: shared }, resourceLimits: { maxOldGenerationSizeMb: 3072 } });
  const slot: Slot = { worker, progress: shared, chunk: undefined, chunkStarted: 0 };
  worker.on('message', (message: ChunkResult | { type: 'error'; message: string }) => onMessage(slot, message));
  worker.on('error', (error) => onDeath(slot, `worker died: ${error.message}`, error.name === 'Error' && /memory/i.test(error.message) ? 'OutOfMemory' : 'WorkerCrash'));
  return slot;
}

function feed(slot: Slot): void {
  const chunk = stopping ? undefined : nextChunk();
  slot.chunk = chunk;
  slot.chunkStarted = Date.now();
  if (chunk) slot.worker.postMessage(chunk);
  else if (slots.every((other) => other.chunk === undefined)) finished();
}

function onMessage(slot: Slot, message: ChunkResult | { type: 'error'; message: string }): void {
  if (message.type === 'error') {
    console.error(`worker error on ${slot.chunk?.target}: ${message.message}`);
    const chunk = slot.chunk;
    if (chunk) {
      const target = progress.get(chunk.target)!;
      target.seeds = 0; // a target whose seeds cannot load is left out of this run
      target.inFlight.delete(chunk.from);
    }
    feed(slot);
    return;
  }
  const target = progress.get(message.target)!;
  const entry = state.targets[message.target]!;
  const count = message.to - message.from;
  const expected = target.rate === undefined ? CHUNK_TARGET_MS : count / target.rate;
  entry.timeMs += message.elapsedMs - expected;
  target.rate = count / Math.max(1, message.elapsedMs);
  target.seeds = message.seeds;
  entry.seeds = message.seeds;
  if (message.seeds === 0) console.log(`${message.target}: no seeds (its artefacts are not cached: node scripts/prepare-tests.mjs); skipped`);
  for (const failure of message.failures) recordFailure(message.target, failure);
  target.inFlight.delete(message.from);
  target.completed.set(message.from, message.to);
  advance(entry, target);
  entry.updated = new Date().toISOString();
  feed(slot);
}

/** A worker that hung or died: the input it was on is a finding; the rest of its chunk is redone. */
async function onDeath(slot: Slot, reason: string, name: string): Promise<void> {
  const chunk = slot.chunk;
  const index = new Int32Array(slot.progress, 0, 1)[0]!;
  const ms = Date.now() - new Float64Array(slot.progress, 8, 1)[0]!;
  slot.chunk = undefined;
  await slot.worker.terminate();
  const replacement = spawn();
  slots[slots.indexOf(slot)] = replacement;
  if (chunk && index >= chunk.from && index < chunk.to) {
    const loaded = await loadTarget(targetNamed(chunk.target));
    const bytes = loaded.input(chunk.runSeed, index);
    const outcome: Outcome = name === 'Hang' ? { kind: 'slow', ms, result: 'ok' } : { kind: 'untyped-error', name, message: reason, stack: name, ms };
    recordFailure(chunk.target, { index, signature: name === 'Hang' ? 'slow' : name, outcome, bytes, originalBytes: bytes.length });
    const target = progress.get(chunk.target)!;
    target.inFlight.delete(chunk.from);
    // Inputs before the stuck one ran; the stuck one is recorded; the rest run again.
    target.completed.set(chunk.from, index + 1);
    if (index + 1 < chunk.to) {
      target.inFlight.set(index + 1, chunk.to);
      replacement.chunk = { ...chunk, from: index + 1 };
      replacement.chunkStarted = Date.now();
      replacement.worker.postMessage(replacement.chunk);
      advance(state.targets[chunk.target]!, target);
      return;
    }
    advance(state.targets[chunk.target]!, target);
  }
  feed(replacement);
}

const watchdog = setInterval(() => {
  for (const slot of slots) {
    if (!slot.chunk) continue;
    const index = new Int32Array(slot.progress, 0, 1)[0]!;
    const started = new Float64Array(slot.progress, 8, 1)[0]!;
    if (index >= 0 && Date.now() - started > HANG_AFTER_MS) void onDeath(slot, `no answer for ${Date.now() - started} ms`, 'Hang');
  }
}, 500);

const saver = setInterval(() => saveState(state), 5000);
let lastReport = Date.now();
const reporter = setInterval(() => {
  if (Date.now() - lastReport < 30_000) return;
  lastReport = Date.now();
  const line = [...progress.values()].map((target) => `${target.name} ${state.targets[target.name]!.done}`).join(', ');
  console.log(`[${new Date().toISOString()}] ${line}`);
}, 5000);

process.on('SIGINT', () => {
  if (stopping) process.exit(130);
  stopping = true;
  console.log('\nstopping: chunks in flight are dropped and run again next time; saving state');
  saveState(state);
  finished();
});

const startedAt = Date.now();
console.log(`fuzzing ${selected.length} targets to ${INPUTS} inputs each, seed ${RUN_SEED}, ${WORKERS} workers; state in ${stateFile}`);
for (let count = 0; count < WORKERS; count++) slots.push(spawn());
for (const slot of slots) feed(slot);
await allDone;
clearInterval(watchdog);
clearInterval(saver);
clearInterval(reporter);
await Promise.all(slots.map((slot) => slot.worker.terminate()));
saveState(state);

const rows = selected.map((target) => {
  const entry = state.targets[target.name]!;
  const distinct = Object.keys(entry.failures).length;
  const failing = Object.values(entry.failures).reduce((sum, count) => sum + count, 0);
  return [target.name, String(entry.done), String(distinct), String(failing), `${(entry.timeMs / 1000).toFixed(0)} s`, String(entry.seeds ?? '?')];
});
const header = ['target', 'inputs', 'distinct failures', 'failing inputs', 'worker time', 'seeds'];
const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
const format = (row: string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
console.log(`\n${format(header)}\n${widths.map((width) => '-'.repeat(width)).join('  ')}\n${rows.map(format).join('\n')}`);
console.log(`\nwall time ${((Date.now() - startedAt) / 1000).toFixed(0)} s; findings in ${findingsDir}`);
process.exit(rows.some((row) => row[2] !== '0') ? 1 : 0);
