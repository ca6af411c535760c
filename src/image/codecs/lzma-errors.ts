import { CodecDataError } from './codec.js';

/** Why LZMA decoding stopped; the container (lzma.ts, xz.ts) turns it into its ParseError. */
export class LzmaDataError extends CodecDataError {}
