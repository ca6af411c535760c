import { ErrorCode, ParseError } from '../../errors.js';

/**
 * Memory the dump does not hold: a hole, a page a dump level left out, or an address that
 * points nowhere (a corrupt pointer in the crashed kernel). A ParseError, because for the reader
 * the dump does not hold what its own structures point at.
 */
export class PageNotInDumpError extends ParseError {
  readonly paddr: number;

  constructor(format: string, paddr: number, what: string) {
    super(ErrorCode.FORMAT_INVALID, format, `${what}: physical address 0x${paddr.toString(16)} is not in the dump`, { field: 'physical address' });
    this.name = 'PageNotInDumpError';
    this.paddr = paddr;
  }
}
