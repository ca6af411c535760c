/**
 * What one input did, and whether that is a pass. A parser may return, or throw a KexecError
 * carrying one of the ErrorCode values (the typed hierarchy in src/errors.ts); anything else
 * (a TypeError, a RangeError from a bad offset, a string thrown) is a finding, and so is an
 * input that takes longer than the per-input budget.
 */
import { isTypedError, type FuzzTarget } from './targets/target.js';

/** One input may take this long; longer is a hang (or a quadratic walk) worth a finding. */
export const INPUT_TIME_BUDGET_MS = 2000;

export type Outcome =
  | { kind: 'ok'; ms: number }
  | { kind: 'typed-error'; code: string; ms: number }
  | { kind: 'untyped-error'; name: string; message: string; stack: string; ms: number }
  | { kind: 'slow'; ms: number; result: 'ok' | 'typed-error' };

export function isFailure(outcome: Outcome): boolean {
  return outcome.kind === 'untyped-error' || outcome.kind === 'slow';
}

function describe(error: unknown): { name: string; message: string; stack: string } {
  if (error instanceof Error) return { name: error.constructor.name || error.name, message: error.message, stack: error.stack ?? `${error.name}: ${error.message}` };
  return { name: typeof error, message: String(error), stack: String(error) };
}

async function runOnce(target: FuzzTarget, bytes: Uint8Array): Promise<Outcome> {
  const started = performance.now();
  let settled: { kind: 'ok' } | { kind: 'typed-error'; code: string } | { kind: 'untyped-error'; name: string; message: string; stack: string };
  try {
    const result = target.run(bytes);
    if (result instanceof Promise) await result;
    settled = { kind: 'ok' };
  } catch (error) {
    settled = isTypedError(error) ? { kind: 'typed-error', code: error.code } : { kind: 'untyped-error', ...describe(error) };
  }
  const ms = performance.now() - started;
  if (settled.kind !== 'untyped-error' && ms > INPUT_TIME_BUDGET_MS) return { kind: 'slow', ms, result: settled.kind };
  return { ...settled, ms };
}

/**
 * Runs one input. An input over the time budget runs once more and is slow only if it is slow
 * again: a busy machine (a garbage collection, another process) must not make a finding.
 */
export async function runInput(target: FuzzTarget, bytes: Uint8Array): Promise<Outcome> {
  const outcome = await runOnce(target, bytes);
  if (outcome.kind !== 'slow') return outcome;
  const again = await runOnce(target, bytes);
  return again.kind === 'slow' ? { ...again, ms: Math.min(outcome.ms, again.ms) } : again;
}

/**
 * What makes two failures the same bug: the kind, the error's class and the first frame in
 * the project's own code (the parser line that threw, not the message with its numbers).
 */
export function failureSignature(outcome: Outcome): string {
  if (outcome.kind === 'slow') return 'slow';
  if (outcome.kind !== 'untyped-error') return outcome.kind;
  const frame = outcome.stack
    .split('\n')
    .slice(1)
    .map((line) => line.trim())
    .find((line) => /\/(src|fuzz)\//.test(line));
  const where = frame?.replace(/^at\s+/, '').replace(/.*\/(src|fuzz)\//, '$1/').replace(/\)$/, '').replace(/:\d+$/, '') ?? 'unknown';
  return `${outcome.name} at ${where}`;
}
