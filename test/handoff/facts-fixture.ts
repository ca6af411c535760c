import type { MachineFacts } from '../../src/handoff/machine-facts.js';
import { parseKernelConfig } from '../../src/image/kernel-config.js';

/**
 * A root shell on a Debian cloud kernel booted with nothing special: kexec possible. Tests
 * change one fact at a time from here.
 */
export function permissiveFacts(overrides: Partial<MachineFacts> = {}): MachineFacts {
  return {
    arch: 'x86_64',
    kernelRelease: '6.1.0-41-cloud-amd64',
    uid: 0,
    hasCapSysBoot: true,
    kexecLoadDisabled: false,
    loadLimitReboot: undefined,
    loadLimitPanic: undefined,
    lockdown: 'none',
    lockdownUnknownReason: undefined,
    kexecLoaded: false,
    kexecCrashLoaded: false,
    crashReservationBytes: 0,
    crashkernelParameter: undefined,
    procCmdline: 'console=ttyS0',
    kernelConfig: parseKernelConfig('CONFIG_KEXEC=y\nCONFIG_KEXEC_FILE=y\nCONFIG_KEXEC_SIG=y\n# CONFIG_KEXEC_SIG_FORCE is not set\nCONFIG_CRASH_DUMP=y\n'),
    kernelConfigSource: '/boot/config-6.1.0-41-cloud-amd64',
    secureBoot: undefined,
    initSystem: 'init',
    ...overrides,
  };
}
