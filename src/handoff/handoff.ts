import { spawnSync } from 'node:child_process';
import { ErrorCode, KexecError, SyscallError } from '../errors.js';
import { KEXEC_FILE_ON_CRASH, KEXEC_FILE_UNLOAD, LINUX_REBOOT_CMD_KEXEC } from '../syscall/numbers.js';
import { explainKexecFailure } from './explain.js';
import { callWithKernelLog, hostEnvironment, type HandoffEnvironment } from './environment.js';
import { load, type LoadOptions } from './load.js';

export { load, type LoadOptions, type LoadResult } from './load.js';
export { hostEnvironment, type HandoffEnvironment } from './environment.js';

/** Unloads the loaded kernel (or crash kernel). Unloading when nothing is loaded succeeds. */
export function unload(options: { crash?: boolean } = {}, env: HandoffEnvironment = hostEnvironment()): void {
  const crash = options.crash === true;
  const flags = KEXEC_FILE_UNLOAD | (crash ? KEXEC_FILE_ON_CRASH : 0);
  callWithKernelLog(env, { operation: crash ? 'crash-unload' : 'unload' }, () =>
    env.syscalls.kexecFileLoad(-1, -1, '', flags),
  );
}

export interface ExecOptions {
  /** Skip the init system and reboot into the loaded kernel at once, as `kexec -e` does. */
  readonly force?: boolean;
  /** How long the stop job's SIGTERM is held back after systemd accepted the hand-off; TERMINATION_GRACE_MS unless given. */
  readonly terminationGraceMs?: number;
}

export type ExecOutcome =
  /** The init system accepted the hand-off and will stop services, then kexec. */
  | { readonly via: 'init-system'; readonly initSystem: string; readonly handoffCommand: string }
  /** Never returned in practice: the direct path ends in the new kernel. */
  | { readonly via: 'direct' };

/**
 * Hands off to the loaded kernel. With an init system as PID 1 (systemd) and no `force`, the
 * hand-off goes through it so services stop and filesystems unmount cleanly; otherwise we sync
 * and call reboot(LINUX_REBOOT_CMD_KEXEC) ourselves.
 */
export function exec(options: ExecOptions = {}, env: HandoffEnvironment = hostEnvironment()): ExecOutcome {
  const facts = env.readFacts();
  if (facts.kexecLoaded === false) {
    throw new KexecError(ErrorCode.NOTHING_LOADED, 'No kernel is loaded, so there is nothing to hand off to (/sys/kernel/kexec_loaded is 0).', {
      remedy: 'Load one first: kexec-ts load /boot/vmlinuz-VERSION --initrd /boot/initrd.img-VERSION --reuse-cmdline',
    });
  }
  if (options.force !== true && facts.initSystem === 'systemd') return handOffThroughSystemd(options.terminationGraceMs ?? TERMINATION_GRACE_MS);

  env.syscalls.sync();
  try {
    env.syscalls.reboot(LINUX_REBOOT_CMD_KEXEC);
  } catch (error) {
    if (!(error instanceof SyscallError)) throw error;
    // kernel_kexec() answers EINVAL when no image is loaded: the same refusal as above, for
    // machines where sysfs could not tell us beforehand.
    if (error.errnoName === 'EINVAL') {
      throw new KexecError(ErrorCode.NOTHING_LOADED, 'No kernel is loaded, so there is nothing to hand off to (reboot(2) answered EINVAL).', {
        cause: error,
        remedy: 'Load one first with kexec-ts load.',
      });
    }
    throw explainKexecFailure(error, { operation: 'exec' }, env.readFacts(), []);
  }
  return { via: 'direct' };
}

/** load() then exec(): the one-call hand-off. */
export async function loadAndExec(options: LoadOptions & ExecOptions, env: HandoffEnvironment = hostEnvironment()): Promise<ExecOutcome> {
  await load({ ...options, crash: false }, env);
  return exec(options, env);
}

/**
 * How long a SIGTERM that arrives after the hand-off was queued is held back (see below). Well
 * inside systemd's own stop timeout (DefaultTimeoutStopSec, 90 s), so it delays no shutdown
 * beyond what systemd allows; 5 s proved too short in a TCG guest, where finishing the report
 * and exiting competes with every unit systemd is stopping at that moment.
 */
export const TERMINATION_GRACE_MS = 30_000;

/**
 * `systemctl kexec --no-block` with a kernel already loaded: systemd queues kexec.target, stops
 * services, unmounts, and its shutdown binary calls reboot(LINUX_REBOOT_CMD_KEXEC) at the end; it
 * uses the loaded image instead of loading its own (systemd 261+ loads one only when none is).
 *
 * `--no-block` returns once systemd accepted the job (a refusal, such as an inhibitor lock, still
 * comes back as an error), so the caller can report the outcome. A caller that runs inside a
 * service (a fleet agent) is itself stopped by that job: SIGTERM from the stop job is held back
 * for the grace so its report is not cut off, then takes effect as usual.
 */
function handOffThroughSystemd(graceMs: number): ExecOutcome {
  const command = ['systemctl', 'kexec', '--no-block'];
  holdBackTermination(graceMs);
  const result = spawnSync(command[0]!, command.slice(1), { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (result.error !== undefined || result.status !== 0) {
    releaseTermination();
    throw new KexecError(
      ErrorCode.ORDERLY_HANDOFF_FAILED,
      `systemd did not accept the hand-off: ${result.error?.message ?? (result.stderr.trim() || `exit ${result.status}`)}`,
      { cause: result.error, remedy: 'Look at `journalctl -b -u systemd-logind` for why (`systemd-inhibit --list` shows inhibitor locks); `kexec-ts exec --force` reboots into the loaded kernel without stopping services first.' },
    );
  }
  return { via: 'init-system', initSystem: 'systemd', handoffCommand: command.join(' ') };
}

let heldTermination: (() => void) | undefined;

/** SIGTERM is noted instead of ending the process; graceMs later it is delivered again. */
function holdBackTermination(graceMs: number): void {
  if (heldTermination !== undefined) return;
  const onTerm = (): void => {
    setTimeout(() => {
      releaseTermination();
      process.kill(process.pid, 'SIGTERM');
    }, graceMs).unref();
  };
  heldTermination = onTerm;
  process.on('SIGTERM', onTerm);
}

function releaseTermination(): void {
  if (heldTermination === undefined) return;
  process.off('SIGTERM', heldTermination);
  heldTermination = undefined;
}
