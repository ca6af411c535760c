/**
 * How GRUB's control-flow commands leave the statements they are in, as
 * grub-core/script/execute.c does it: `return` ends the function (or entry body) with a
 * status, `exit` ends the script, `break N`/`continue N` leave N enclosing loops, never more
 * than are active (a function call starts with none, so a `break` cannot leave the caller's
 * loop). They are thrown and caught by the statement that ends; all are internal to the
 * interpreter, never seen by a caller.
 */

export class ControlSignal {
  constructor(readonly kind: 'return' | 'exit', readonly status: number) {}
}

export class LoopSignal {
  /** `loops` >= 1: how many enclosing loops this still has to leave. */
  constructor(readonly kind: 'break' | 'continue', readonly loops: number) {}
}

/** The command budget ran out: everything stops, and the file's runner reports it once. */
export class BudgetExhausted {}

/**
 * The count of `break N`, `continue N`, `shift N`, `return N`: decimal digits only (GRUB reads
 * it with grub_strtoul and refuses anything after the digits). Undefined for a bad count.
 */
export function parseCount(text: string | undefined, fallback: number): number | undefined {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) return undefined;
  return Number.parseInt(text, 10);
}

/**
 * What a loop does with the signal its body threw: `break 1` ends it, `continue 1` goes on
 * to the next round, and a count above 1 ends it and passes the rest to the enclosing loop.
 */
export function loopOutcome(signal: LoopSignal): 'stop' | 'next' {
  if (signal.loops > 1) throw new LoopSignal(signal.kind, signal.loops - 1);
  return signal.kind === 'break' ? 'stop' : 'next';
}
