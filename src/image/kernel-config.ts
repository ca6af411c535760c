/**
 * Kconfig text (`/boot/config-*`, `/proc/config.gz` once inflated, or an embedded IKCONFIG
 * blob) -> option map. Pure: text in, map out.
 */

export interface KernelConfig {
  /** `CONFIG_X` -> its value as written (`y`, `m`, `"string"`, `0x10`); `n` for "is not set". */
  readonly options: ReadonlyMap<string, string>;
}

const SET = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/;
const NOT_SET = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/;

export function parseKernelConfig(text: string): KernelConfig {
  const options = new Map<string, string>();
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trimEnd();
    const set = SET.exec(line);
    if (set) {
      options.set(set[1]!, set[2]!);
      continue;
    }
    const notSet = NOT_SET.exec(line);
    if (notSet) options.set(notSet[1]!, 'n');
  }
  return { options };
}

/** true for `=y` or `=m`, false for "is not set", undefined when the config does not mention it. */
export function configEnabled(config: KernelConfig, name: string): boolean | undefined {
  const value = config.options.get(name);
  if (value === undefined) return undefined;
  return value === 'y' || value === 'm';
}

/** The kexec-relevant options, in the order a person reads them. */
export const KEXEC_RELEVANT_OPTIONS = [
  'CONFIG_KEXEC',
  'CONFIG_KEXEC_FILE',
  'CONFIG_KEXEC_SIG',
  'CONFIG_KEXEC_SIG_FORCE',
  'CONFIG_KEXEC_BZIMAGE_VERIFY_SIG',
  'CONFIG_CRASH_DUMP',
  'CONFIG_PROC_VMCORE',
  'CONFIG_SECURITY_LOCKDOWN_LSM',
] as const;
