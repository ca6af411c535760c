/**
 * systemd-boot's `loader/loader.conf`: only `default` matters for choosing an entry; the other
 * keys are display settings and are recognised so that they raise no warning. Pure.
 */
import { assertConfigSize, splitLines, WarningSink } from '../text.js';
import { BootConfigWarningCode, type BootConfigWarning } from '../types.js';

export interface LoaderConf {
  /** A glob over entry ids (`default arch-*`), or `@saved` for the entry remembered in EFI. */
  default?: string;
  defaultLine?: number;
  warnings: BootConfigWarning[];
}

/** loader.conf(5). */
const KNOWN_KEYS = new Set([
  'default', 'timeout', 'console-mode', 'editor', 'auto-entries', 'auto-firmware', 'auto-reboot',
  'auto-poweroff', 'beep', 'secure-boot-enroll', 'secure-boot-enroll-action', 'secure-boot-enroll-timeout-sec',
  'reboot-for-bitlocker', 'reboot-on-error', 'random-seed-mode', 'log-level', 'preferred-profile',
]);

export function parseLoaderConf(text: string, file: string): LoaderConf {
  assertConfigSize(text, 'loader.conf', file);
  const sink = new WarningSink();
  const conf: LoaderConf = { warnings: sink.warnings };
  splitLines(text).forEach((rawLine, index) => {
    const trimmed = rawLine.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const match = /^(\S+)(?:\s+(.*))?$/s.exec(trimmed)!;
    const key = match[1]!;
    const value = (match[2] ?? '').trim();
    if (!KNOWN_KEYS.has(key)) {
      sink.add(BootConfigWarningCode.UNKNOWN_KEY, `unknown key "${key}" ignored`, file, index + 1);
      return;
    }
    if (key === 'default' && value !== '') {
      conf.default = value;
      conf.defaultLine = index + 1;
    }
  });
  return conf;
}
