import { parseCommandArgs } from '../args.js';
import { UsageError } from '../../errors.js';
import { buildCaptureInitrd, type CaptureInitrdOptions } from '../../crash/arm/capture-initrd/build.js';
import { DEFAULT_SAVE_ARGUMENTS, type CaptureAction } from '../../crash/arm/capture-initrd/init-script.js';
import { splitCmdline } from '../../handoff/cmdline.js';
import { formatSize } from '../../crash/arm/memory-size.js';
import { ExitCode } from '../exit-codes.js';
import { writeJson, type CommandOutput } from '../output.js';
import { byteProgressOnTerminal } from './crash-progress.js';
import type { Subcommand } from './crash.js';

const usage = `Usage: kexec-ts crash initrd OUT [options] [--json]
Builds a minimal capture initramfs at OUT (gzip'ed newc cpio): a static busybox, node with the
libraries it needs, and kexec-ts. In the capture kernel its /init mounts the dump filesystem,
runs kexec-ts crash save --dir into a dated directory, then reboots. Arm it with:
kexec-ts crash load --initrd OUT
  --dump-device SPEC     UUID=..., LABEL=... or a device path; default: the filesystem holding
                         --dump-dir on this machine (by UUID); 'none' saves nothing (hooks only)
  --dump-fstype TYPE     its filesystem type (default: as mounted here, else probed)
  --dump-options OPTS    mount options (default rw)
  --dump-dir DIR         directory for dumps (default /var/crash)
  --save-args ARGS       crash save options (default: ${DEFAULT_SAVE_ARGUMENTS.join(' ')})
  --module NAME          a kernel module the dump device needs, with its dependencies (repeatable)
  --kernel-release R     the capture kernel's release, for /lib/modules/R (default: the running one)
  --modules-dir DIR      the modules directory itself
  --pre-hook FILE        a script run before the save (repeatable; $KEXEC_TS_VMCORE is set)
  --post-hook FILE       a script run after it ($KEXEC_TS_SAVE_STATUS is its exit status)
  --include SRC[:DEST]   another host file, at DEST (default: the same path) in the initramfs
  --on-failure ACTION    reboot | poweroff | shell when the save fails (default reboot)
  --final-action ACTION  reboot | poweroff | shell afterwards (default reboot, as kdump-tools)
  --device-timeout S     seconds to wait for the dump device (default 60)
  --busybox FILE         a static busybox (default /bin/busybox)
  --node FILE            the node binary (default: the one running this)
  --no-compress          leave the archive uncompressed
  --force                replace OUT`;

const ACTIONS: readonly CaptureAction[] = ['reboot', 'poweroff', 'shell'];

async function run(args: string[], output: CommandOutput): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    'dump-device': { type: 'string' },
    'dump-fstype': { type: 'string' },
    'dump-options': { type: 'string' },
    'dump-dir': { type: 'string' },
    'save-args': { type: 'string' },
    module: { type: 'string', multiple: true },
    'kernel-release': { type: 'string' },
    'modules-dir': { type: 'string' },
    'pre-hook': { type: 'string', multiple: true },
    'post-hook': { type: 'string', multiple: true },
    include: { type: 'string', multiple: true },
    'on-failure': { type: 'string' },
    'final-action': { type: 'string' },
    'device-timeout': { type: 'string' },
    busybox: { type: 'string' },
    node: { type: 'string' },
    'no-compress': { type: 'boolean' },
    force: { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError(`crash initrd takes one OUT file.\n${usage}`);
  const action = (name: string, value: string | undefined): CaptureAction | undefined => {
    if (value === undefined) return undefined;
    if (!ACTIONS.includes(value as CaptureAction)) throw new UsageError(`--${name} is one of ${ACTIONS.join(', ')}, not '${value}'.`);
    return value as CaptureAction;
  };
  const timeout = values['device-timeout'];
  if (timeout !== undefined && !/^\d+$/.test(timeout)) throw new UsageError(`--device-timeout takes whole seconds, not '${timeout}'.`);
  const onFailure = action('on-failure', values['on-failure']);
  const finalAction = action('final-action', values['final-action']);
  const progress = byteProgressOnTerminal(output);
  const startedAt = performance.now();
  const options: CaptureInitrdOptions = {
    out: positionals[0]!,
    force: values.force === true,
    ...(values['dump-device'] !== undefined ? { dumpDevice: values['dump-device'] } : {}),
    ...(values['dump-fstype'] !== undefined ? { dumpFstype: values['dump-fstype'] } : {}),
    ...(values['dump-options'] !== undefined ? { dumpMountOptions: values['dump-options'] } : {}),
    ...(values['dump-dir'] !== undefined ? { dumpDir: values['dump-dir'] } : {}),
    ...(values['save-args'] !== undefined ? { saveArguments: splitCmdline(values['save-args']) } : {}),
    ...(values.module !== undefined ? { modules: values.module } : {}),
    ...(values['kernel-release'] !== undefined ? { kernelRelease: values['kernel-release'] } : {}),
    ...(values['modules-dir'] !== undefined ? { modulesDir: values['modules-dir'] } : {}),
    ...(values['pre-hook'] !== undefined ? { preSaveHooks: values['pre-hook'] } : {}),
    ...(values['post-hook'] !== undefined ? { postSaveHooks: values['post-hook'] } : {}),
    ...(values.include !== undefined ? { include: values.include.map(parseInclude) } : {}),
    ...(onFailure !== undefined ? { onFailure } : {}),
    ...(finalAction !== undefined ? { finalAction } : {}),
    ...(timeout !== undefined ? { deviceTimeoutSeconds: Number(timeout) } : {}),
    ...(values.busybox !== undefined ? { busybox: values.busybox } : {}),
    ...(values.node !== undefined ? { node: values.node } : {}),
    gzip: values['no-compress'] !== true,
    onProgress: (done: number, total: number) =>
      progress({ phase: 'gzip', bytesDone: done, bytesTotal: total, bytesPerSecond: (done * 1000) / Math.max(1, performance.now() - startedAt) }),
  };
  const result = await buildCaptureInitrd(options).finally(() => progress.stop());
  if (output.json) {
    writeJson(output, { ok: true, command: 'crash initrd', ...result });
  } else {
    output.out(
      `Wrote ${result.path}: ${formatSize(result.sizeBytes)} (${formatSize(result.archiveBytes)} unpacked, ${result.entries} entries) in ${(result.durationMs / 1000).toFixed(1)} s.\n` +
        `  dumps go to    ${result.dumpTarget}\n` +
        `  node           ${result.node.path} with ${result.node.libraries.length} libraries\n` +
        (result.modules.length > 0 ? `  modules        ${result.modules.join(' ')}\n` : '') +
        result.notes.map((note) => `  note           ${note}\n`).join('') +
        `Arm it with: kexec-ts crash load --initrd ${result.path}\n`,
    );
  }
  return ExitCode.OK;
}

function parseInclude(text: string): { hostPath: string; path: string } {
  const colon = text.indexOf(':');
  return colon === -1 ? { hostPath: text, path: text } : { hostPath: text.slice(0, colon), path: text.slice(colon + 1) };
}

export const subcommand: Subcommand = { usage, run };
