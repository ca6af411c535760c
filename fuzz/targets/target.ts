// What a fuzz target is, and the small helpers the target modules share.
import { ErrorCode, KexecError } from '../../src/errors.js';
import type { Seed } from '../mutate.js';

export interface FuzzTarget {
  /** Stable: names the findings directory, the regression folder and the state entry. */
  readonly name: string;
  /** The entry point(s) it calls, for the report. */
  readonly description: string;
  /** Line-level mutations as well (the input is a text). */
  readonly text?: boolean;
  /** Tokens worth inserting: keywords, magics, quoting characters. */
  readonly dictionary?: readonly string[];
  /** No generated input grows past this (default 512 KiB). */
  readonly maxBytes?: number;
  /** Inputs per quick run (test/fuzz/quick.test.ts); default 1000. Slow decoders ask fewer. */
  readonly quickInputs?: number;
  /** The seed corpus: committed fixtures and slices of cached artefacts (missing ones left out). */
  seeds(): Promise<Seed[]>;
  /** Calls the parser. Returning, or throwing a KexecError with a code, is a pass. */
  run(bytes: Uint8Array): unknown;
}

/** The seeds whose bytes exist (a missing artefact leaves its seed out). */
export function present(seeds: readonly (Seed | { name: string; bytes: Uint8Array | undefined; fields?: Seed['fields'] } | undefined)[]): Seed[] {
  return seeds.filter((seed): seed is Seed => seed !== undefined && seed.bytes !== undefined && seed.bytes.length > 0);
}

/** Bytes as text one byte per character: every byte sequence is some text, as a config on disk. */
export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** Bytes as UTF-8 text (invalid sequences become U+FFFD, as a reader decoding a file does). */
export function utf8(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

const CODES = new Set<string>(Object.values(ErrorCode));

/** The project's own typed error: a KexecError carrying one of the ErrorCode values. */
export function isTypedError(error: unknown): error is KexecError {
  return error instanceof KexecError && CODES.has(error.code);
}

/**
 * Runs several independent calls on one input, so a refusal in one does not hide the others
 * (as test/bootcfg/iso-fuzz.test.ts exercises the ISO reader part by part). An untyped error
 * is thrown at once; of the typed ones the first is thrown at the end when `throwWhen` is
 * 'any' (some step refused) or 'all' (every step refused).
 */
export function eachStep(steps: readonly (() => unknown)[], throwWhen: 'any' | 'all'): void {
  let first: KexecError | undefined;
  let refused = 0;
  for (const step of steps) {
    try {
      step();
    } catch (error) {
      if (!isTypedError(error)) throw error;
      first ??= error;
      refused++;
    }
  }
  if (first !== undefined && (throwWhen === 'any' || refused === steps.length)) throw first;
}
