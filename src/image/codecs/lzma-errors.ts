/** Why LZMA decoding stopped; the container (lzma.ts, xz.ts) turns it into its ParseError. */
export class LzmaDataError extends Error {
  readonly offset: number;
  readonly isTruncation: boolean;
  constructor(message: string, offset: number, isTruncation = false) {
    super(message);
    this.name = 'LzmaDataError';
    this.offset = offset;
    this.isTruncation = isTruncation;
  }
}
