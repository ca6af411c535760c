import { configEnabled, KEXEC_RELEVANT_OPTIONS } from '../image/kernel-config.js';
import { formatMiB } from './explain.js';
import { readMachineFacts, type MachineFacts } from './machine-facts.js';
import { chooseLoadSyscall, KEXEC_LOAD_ARCHES } from './kexec-load/choose.js';
import { ValidationError } from '../errors.js';

/** One line of the report: a fact, and whether it stands in the way. */
export interface StatusCheck {
  readonly name: string;
  readonly value: string;
  /** 'blocks': kexec cannot work while this holds; 'unknown': could not be read here. */
  readonly verdict: 'ok' | 'blocks' | 'unknown' | 'info';
  readonly detail?: string;
}

export interface KexecStatus {
  /** Whether a kexec_file_load by this process would be allowed: 'unknown' when a fact is missing. */
  readonly canLoad: boolean | 'unknown';
  /** Whether a crash kernel could be loaded (the above, plus a reservation). */
  readonly canLoadCrash: boolean | 'unknown';
  /** Plain-words reasons for a `false` above, most fundamental first. */
  readonly blockers: readonly string[];
  readonly arch: string;
  readonly kernelRelease: string | undefined;
  readonly loaded: boolean | undefined;
  readonly crashLoaded: boolean | undefined;
  readonly crashReservationBytes: number | undefined;
  readonly lockdown: string | undefined;
  readonly kexecLoadDisabled: boolean | undefined;
  readonly hasCapSysBoot: boolean | undefined;
  readonly kernelConfigSource: string | undefined;
  /** The kexec-relevant options from the running kernel's config, when readable. */
  readonly kernelConfig: Readonly<Record<string, string>> | undefined;
  readonly initSystem: string | undefined;
  readonly checks: readonly StatusCheck[];
}

/** Whether kexec_load stands in for a missing kexec_file_load here; where it would but cannot, why (for a sentence). */
function kexecLoadFallback(facts: MachineFacts): { syscall: 'kexec_load'; reason: string; refusal?: undefined } | { syscall?: undefined; refusal?: string } {
  if (!KEXEC_LOAD_ARCHES.includes(facts.arch)) return {};
  try {
    const decision = chooseLoadSyscall(facts, 'auto', { crash: false });
    return decision.syscall === 'kexec_load' ? { syscall: 'kexec_load', reason: decision.reason } : {};
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { refusal: facts.lockdown !== undefined && facts.lockdown !== 'none' ? `kexec_load, its stand-in, is refused under lockdown (${facts.lockdown})` : 'it has no kexec_load either (CONFIG_KEXEC is off)' };
  }
}

export function status(root = '/'): KexecStatus {
  return assessStatus(readMachineFacts(root));
}

/** Pure: weighs the facts into a verdict and a list of checks for people. */
export function assessStatus(facts: MachineFacts): KexecStatus {
  const checks: StatusCheck[] = [];
  const blockers: string[] = [];
  let unknown = false;
  const config = facts.kernelConfig;

  const supportedArch = facts.arch === 'x86_64' || facts.arch === 'aarch64' || facts.arch === 'riscv64';
  checks.push({ name: 'architecture', value: facts.arch, verdict: supportedArch ? 'ok' : 'blocks' });
  if (!supportedArch) blockers.push(`kexec-ts has no syscall table for ${facts.arch}`);

  const kexecFile = config === undefined ? undefined : configEnabled(config, 'CONFIG_KEXEC_FILE');
  const kexecInKernel = facts.kexecLoaded !== undefined; // /sys/kernel/kexec_loaded exists only with kexec built in
  const fallback = kexecFile === false && kexecInKernel ? kexecLoadFallback(facts) : undefined;
  if (fallback?.syscall === 'kexec_load') {
    checks.push({ name: 'kexec_file_load', value: 'not in this kernel', verdict: 'info', ...(facts.kernelConfigSource !== undefined ? { detail: facts.kernelConfigSource } : {}) });
    checks.push({ name: 'load syscall', value: 'kexec_load', verdict: 'ok', detail: fallback.reason });
  } else if (kexecFile === false || (kexecFile === undefined && !kexecInKernel && facts.kernelRelease !== undefined)) {
    blockers.push(
      kexecFile === false
        ? `the running kernel is built without CONFIG_KEXEC_FILE${fallback?.refusal !== undefined ? `, and ${fallback.refusal}` : ''}`
        : 'the running kernel has no kexec support (/sys/kernel/kexec_loaded is missing)',
    );
    checks.push({ name: 'kexec_file_load', value: 'not in this kernel', verdict: 'blocks', detail: fallback?.refusal ?? facts.kernelConfigSource });
  } else {
    checks.push({
      name: 'kexec_file_load',
      value: kexecFile === true ? 'built in (CONFIG_KEXEC_FILE=y)' : 'probably available (kernel config not readable)',
      verdict: kexecFile === true ? 'ok' : 'unknown',
      ...(facts.kernelConfigSource !== undefined ? { detail: facts.kernelConfigSource } : {}),
    });
    if (kexecFile === undefined) unknown = true;
  }

  if (facts.hasCapSysBoot === undefined) unknown = true;
  else if (!facts.hasCapSysBoot) blockers.push(`this process lacks CAP_SYS_BOOT${facts.uid !== 0 ? ' (not root)' : ''}`);
  checks.push({
    name: 'CAP_SYS_BOOT',
    value: facts.hasCapSysBoot === undefined ? 'unknown' : facts.hasCapSysBoot ? 'yes' : `no${facts.uid !== undefined && facts.uid !== 0 ? ` (uid ${facts.uid}: run as root)` : ''}`,
    verdict: facts.hasCapSysBoot === undefined ? 'unknown' : facts.hasCapSysBoot ? 'ok' : 'blocks',
  });

  if (facts.kexecLoadDisabled === true) blockers.push('kernel.kexec_load_disabled is 1 (until reboot)');
  checks.push({
    name: 'kexec_load_disabled',
    value: facts.kexecLoadDisabled === undefined ? 'unknown' : facts.kexecLoadDisabled ? '1' : '0',
    verdict: facts.kexecLoadDisabled === undefined ? 'unknown' : facts.kexecLoadDisabled ? 'blocks' : 'ok',
  });
  if (facts.loadLimitReboot === 0) blockers.push('kernel.kexec_load_limit_reboot is 0');

  const sigForced = config === undefined ? undefined : configEnabled(config, 'CONFIG_KEXEC_SIG_FORCE');
  const lockedDown = facts.lockdown !== undefined && facts.lockdown !== 'none';
  checks.push({
    name: 'lockdown',
    value: facts.lockdown ?? 'unknown',
    verdict: facts.lockdown === undefined ? 'unknown' : lockedDown ? 'info' : 'ok',
    detail: lockedDown
      ? 'only kernels signed with a trusted key can be loaded'
      : facts.lockdown === undefined
        ? facts.lockdownUnknownReason ?? ''
        : '',
  });
  checks.push({
    name: 'signature checks',
    value:
      sigForced === true
        ? 'enforced (CONFIG_KEXEC_SIG_FORCE=y)'
        : config !== undefined && configEnabled(config, 'CONFIG_KEXEC_SIG') === true
          ? 'available, not enforced'
          : config === undefined
            ? 'unknown'
            : 'not built in',
    verdict: sigForced === true ? 'info' : config === undefined ? 'unknown' : 'ok',
    ...(facts.secureBoot !== undefined ? { detail: `Secure Boot ${facts.secureBoot ? 'on' : 'off'}` } : {}),
  });

  checks.push({
    name: 'loaded',
    value: `kernel: ${yesNo(facts.kexecLoaded)}, crash kernel: ${yesNo(facts.kexecCrashLoaded)}`,
    verdict: 'info',
  });
  const reservation = facts.crashReservationBytes;
  checks.push({
    name: 'crash reservation',
    value: reservation === undefined ? 'unknown' : reservation === 0 ? 'none' : formatMiB(reservation),
    verdict: reservation === undefined ? 'unknown' : 'info',
    detail: facts.crashkernelParameter ?? (reservation === 0 ? 'boot with crashkernel=256M to reserve memory for kdump' : ''),
  });
  checks.push({ name: 'init system', value: facts.initSystem ?? 'unknown', verdict: 'info' });

  const canLoad = blockers.length > 0 ? false : unknown ? 'unknown' : true;
  const canLoadCrash = canLoad === false || reservation === 0 ? false : reservation === undefined ? 'unknown' : canLoad;
  const relevantConfig =
    config === undefined
      ? undefined
      : Object.fromEntries(KEXEC_RELEVANT_OPTIONS.flatMap((name) => {
          const value = config.options.get(name);
          return value === undefined ? [] : [[name, value]];
        }));

  return {
    canLoad,
    canLoadCrash,
    blockers,
    arch: facts.arch,
    kernelRelease: facts.kernelRelease,
    loaded: facts.kexecLoaded,
    crashLoaded: facts.kexecCrashLoaded,
    crashReservationBytes: reservation,
    lockdown: facts.lockdown,
    kexecLoadDisabled: facts.kexecLoadDisabled,
    hasCapSysBoot: facts.hasCapSysBoot,
    kernelConfigSource: facts.kernelConfigSource,
    kernelConfig: relevantConfig,
    initSystem: facts.initSystem,
    checks,
  };
}

function yesNo(value: boolean | undefined): string {
  return value === undefined ? 'unknown' : value ? 'yes' : 'no';
}
