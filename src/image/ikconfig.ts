import { gunzipSync } from 'node:zlib';
import { ErrorCode, ParseError } from '../errors.js';
import { parseKernelConfig, type KernelConfig } from './kernel-config.js';

/**
 * A kernel built with CONFIG_IKCONFIG carries its .config gzip'ed between the markers
 * "IKCFG_ST" and "IKCFG_ED" (kernel/configs.c; scripts/extract-ikconfig looks for the same).
 * Search the decompressed kernel (vmlinux or Image), not the compressed file.
 */
const START_MARKER = Buffer.from('IKCFG_ST', 'latin1');
const END_MARKER = Buffer.from('IKCFG_ED', 'latin1');

/** Refuse to inflate more than this: a real .config is a few hundred KiB. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

export function extractEmbeddedConfig(kernel: Uint8Array): KernelConfig | undefined {
  const bytes = Buffer.from(kernel.buffer, kernel.byteOffset, kernel.byteLength);
  const start = bytes.indexOf(START_MARKER);
  if (start === -1) return undefined;
  const dataStart = start + START_MARKER.length;
  const end = bytes.indexOf(END_MARKER, dataStart);
  if (end === -1) throw new ParseError(ErrorCode.FORMAT_TRUNCATED, 'IKCONFIG', 'IKCFG_ST without IKCFG_ED', { offset: start });
  try {
    const text = gunzipSync(bytes.subarray(dataStart, end), { maxOutputLength: MAX_CONFIG_BYTES }).toString('utf8');
    return parseKernelConfig(text);
  } catch (cause) {
    throw new ParseError(ErrorCode.DECOMPRESSION_FAILED, 'IKCONFIG', 'the embedded config does not inflate', { offset: dataStart }, { cause });
  }
}
