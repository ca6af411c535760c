/**
 * The boot-config parsers' view of an image: a BootFileReader whose namespace is the image's
 * (root = the image's root, Rock Ridge links followed inside it), so parseGrubConfig and
 * parseSyslinuxConfig read grub.cfg, isolinux.cfg and everything they source or INCLUDE
 * straight from the image. Pure.
 */
import { ErrorCode, ParseError } from '../../errors.js';
import { BOOTCFG_LIMITS } from '../../limits.js';
import type { BootFileReader } from '../types.js';
import type { Iso } from './iso.js';

export function isoBootFileReader(iso: Iso): BootFileReader {
  return {
    readText(path) {
      const info = iso.stat(path);
      if (info === undefined || info.kind !== 'file') return undefined;
      if (info.sizeBytes > BOOTCFG_LIMITS.configFileBytes) {
        throw new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, 'boot config', `${path} is ${info.sizeBytes} bytes; at most ${BOOTCFG_LIMITS.configFileBytes} are read`);
      }
      return Buffer.from(iso.readFile(info.path, { maxBytes: BOOTCFG_LIMITS.configFileBytes })).toString('utf8');
    },
    list(dir) {
      const names = (iso.list(dir) ?? []).map((entry) => entry.name);
      return names.sort().slice(0, BOOTCFG_LIMITS.directoryEntries);
    },
    exists: (path) => iso.stat(path) !== undefined,
  };
}
