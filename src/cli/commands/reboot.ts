import { parseCommandArgs } from '../args.js';
import { selectBootEntry } from '../../bootcfg/select.js';
import { ErrorCode, KexecError, UsageError } from '../../errors.js';
import { exec } from '../../handoff/handoff.js';
import { load } from '../../handoff/load.js';
import { cmdlineForEntry, reusableCmdline } from '../../handoff/cmdline.js';
import { readFileSync } from 'node:fs';
import { formatSize } from '../../crash/arm/memory-size.js';
import { exitCodeFor, ExitCode } from '../exit-codes.js';
import { errorToJson, formatErrorText, writeJson, type CommandOutput } from '../output.js';
import { progressOption } from '../progress.js';
import { readBootList, readIsoFileEntries, type ListedEntry } from '../../bootcfg/machine.js';
import { allDisksConflicts, shapeOption, VOLUME_OPTIONS } from './list.js';
import { loadFromDisk } from '../../bootcfg/disks/all-disks.js';
import type { Command } from '../cli.js';

const usage = `Usage: kexec-ts reboot [ENTRY | --entry ENTRY] [--dry-run] [--append S] [--reuse-cmdline] [--force] [--root DIR [--shape S]] [--esp DIR] [--iso FILE] [--json]
       kexec-ts reboot --all-disks [--entry] DEVICE[:ID] [--iso-dir DIR]... [--dry-run] [--append S] [--reuse-cmdline] [--force] [--json]
Fast reboot into a boot entry without firmware or boot loader: the default one, or ENTRY (an id,
a title, an index as 'kexec-ts list' shows it, or a glob). The entry's kernel, initrds and command
line are loaded with every check, then the machine hands off: through systemd when it runs the
machine (services stop cleanly), otherwise after syncing filesystems.
  --entry E    ENTRY by name (with --all-disks: DEVICE[:ID])
  --dry-run    check and show exactly what would be loaded; load nothing, reboot nothing
  --append S   add S to the entry's command line
  --reuse-cmdline  boot with this boot's command line instead of the entry's (--append adds to it);
               an entry whose command line is not known (another system's bare /boot) needs one of the two
  --force      hand off at once, without asking the init system (like kexec -e)
  --iso FILE   boot an entry of this ISO image's own menu (default: the image's default); its
               kernel and initrd are read from the image, no mount needed
  --all-disks DEVICE[:ID]  boot entry ID (id, title, glob or index, as 'list --all-disks' shows
               them) of another disk, or its default: DEVICE is a UUID, PARTUUID, LABEL or /dev
               path. Root only; the file system is mounted read-only in a private mount namespace
               while the kernel and initrd are loaded, and unmounted before the hand-off
  --iso-dir DIR  with --all-disks: the *.iso files in DIR (on each file system) count too`;

async function run(args: string[], output: CommandOutput): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    'dry-run': { type: 'boolean' },
    append: { type: 'string' },
    'reuse-cmdline': { type: 'boolean' },
    force: { type: 'boolean' },
    ...VOLUME_OPTIONS,
    entry: { type: 'string' },
  });
  // --entry is ENTRY by name (scripts read better with it): `reboot --all-disks --entry UUID:2`.
  const chosen = values.entry !== undefined ? [values.entry, ...positionals] : positionals;
  if (chosen.length > 1) throw new UsageError(`reboot takes at most one ENTRY (given by --entry or as an argument).\n${usage}`);
  if (values['all-disks'] === true) return rebootFromDisk(values, chosen[0], output);
  if (values['iso-dir'] !== undefined) throw new UsageError(`--iso-dir goes with --all-disks.\n${usage}`);
  const dryRun = values['dry-run'] === true;
  // With --iso the choice is among the image's entries only: that is what the user asked to boot.
  const listed: { entries: ListedEntry[] } = values.iso !== undefined
    ? readIsoFileEntries(values.iso)
    : readBootList(values.root ?? '/', { ...(values.esp !== undefined ? { espDir: values.esp } : {}), ...shapeOption(values.shape) });
  const entry = selectBootEntry(listed.entries, chosen[0]);
  if (entry.unbootableReason !== undefined) {
    throw new KexecError(ErrorCode.NO_BOOT_ENTRY, `The entry '${entry.title}' cannot be booted with kexec: ${entry.unbootableReason.message}.`, {
      remedy: 'Pick another entry (kexec-ts list shows them all).',
    });
  }
  const kernel = entry.kernelFile!;
  const reused = values['reuse-cmdline'] === true ? reusableCmdline(readFileSync('/proc/cmdline', 'utf8')) : undefined;
  const cmdline = cmdlineForEntry(entry, { append: values.append, reused });
  const result = await load({
    kernel,
    initrd: entry.initrdFiles,
    ...(entry.iso?.imageFile !== undefined ? { isoImage: entry.iso.imageFile } : {}),
    ...(cmdline !== undefined ? { cmdline } : {}),
    dryRun,
    ...progressOption(output, 'decompressing the kernel'),
  });
  const summary = {
    entry: { index: listed.entries.indexOf(entry), id: entry.id, title: entry.title, origin: entry.origin },
    kernel: result.kernel,
    initrd: result.initrd ?? null,
    cmdline: result.cmdline,
    checksummedBytes: result.checksummedBytes,
    notes: result.notes,
  };
  if (dryRun) {
    const cannot = result.machineBlockers.length === 0 ? undefined : machineCannotKexec(result.machineBlockers);
    if (output.json) writeJson(output, { ok: cannot === undefined, command: 'reboot', dryRun: true, ...summary, ...(cannot !== undefined ? { error: errorToJson(cannot) } : {}) });
    else output.out(`Would reboot into: ${entry.title}\n${describeLoad(result)}${cannot === undefined ? 'All checks passed' : 'The files check out'}; nothing was loaded (--dry-run).\n`);
    if (cannot === undefined) return ExitCode.OK;
    if (!output.json) output.err(formatErrorText(cannot));
    return exitCodeFor(cannot);
  }
  if (!output.json) output.out(`Rebooting into: ${entry.title}\n${describeLoad(result)}`);
  const outcome = exec({ force: values.force === true });
  if (output.json) writeJson(output, { ok: true, command: 'reboot', dryRun: false, ...summary, via: outcome.via });
  return ExitCode.OK;
}

/** --all-disks: the load runs where the disk is mounted (bootcfg/disks); the hand-off here, after it is unmounted. */
async function rebootFromDisk(values: Record<string, unknown>, spec: string | undefined, output: CommandOutput): Promise<number> {
  allDisksConflicts(values, 'reboot');
  if (spec === undefined) throw new UsageError(`reboot --all-disks needs DEVICE[:ID] (kexec-ts list --all-disks shows them).\n${usage}`);
  const dryRun = values['dry-run'] === true;
  const outcome = await loadFromDisk({
    spec,
    isoDirs: (values['iso-dir'] as string[] | undefined) ?? [],
    ...(typeof values.append === 'string' ? { append: values.append } : {}),
    ...(values['reuse-cmdline'] === true ? { reusedCmdline: reusableCmdline(readFileSync('/proc/cmdline', 'utf8')) } : {}),
    dryRun,
  });
  const result = { ...outcome.load, initrd: outcome.load.initrd ?? undefined };
  const summary = {
    entry: { index: outcome.entry.indexOnDevice, id: outcome.entry.id, title: outcome.entry.title, origin: outcome.entry.origin },
    device: outcome.device,
    kernel: outcome.load.kernel,
    initrd: outcome.load.initrd,
    cmdline: outcome.load.cmdline,
    checksummedBytes: outcome.load.checksummedBytes,
    notes: outcome.load.notes,
  };
  const title = `${outcome.entry.title} (on ${outcome.device.path})`;
  if (dryRun) {
    const cannot = outcome.load.machineBlockers.length === 0 ? undefined : machineCannotKexec(outcome.load.machineBlockers);
    if (output.json) writeJson(output, { ok: cannot === undefined, command: 'reboot', dryRun: true, ...summary, ...(cannot !== undefined ? { error: errorToJson(cannot) } : {}) });
    else output.out(`Would reboot into: ${title}\n${describeLoad(result)}${cannot === undefined ? 'All checks passed' : 'The files check out'}; nothing was loaded (--dry-run).\n`);
    if (cannot === undefined) return ExitCode.OK;
    if (!output.json) output.err(formatErrorText(cannot));
    return exitCodeFor(cannot);
  }
  if (!output.json) output.out(`Rebooting into: ${title}\n${describeLoad(result)}`);
  const handoff = exec({ force: values.force === true });
  if (output.json) writeJson(output, { ok: true, command: 'reboot', dryRun: false, ...summary, via: handoff.via });
  return ExitCode.OK;
}

function machineCannotKexec(blockers: readonly string[]): KexecError {
  return new KexecError(ErrorCode.MACHINE_CANNOT_KEXEC, `kexec is not possible on this machine: ${blockers.join('; ')}.`, {
    remedy: '`kexec-ts status` shows each check.',
  });
}

function describeLoad(result: Pick<Awaited<ReturnType<typeof load>>, 'kernel' | 'initrd' | 'cmdline' | 'checksummedBytes' | 'notes'>): string {
  const lines = [`  kernel   ${result.kernel.path}`];
  if (result.initrd !== undefined) lines.push(`  initrd   ${result.initrd.path}`);
  lines.push(`  cmdline  ${result.cmdline === '' ? '(empty)' : result.cmdline}`);
  lines.push(`  jump     the purgatory checks ${formatSize(result.checksummedBytes)} with SHA-256 before the new kernel runs (a smaller initrd shortens it)`);
  for (const note of result.notes) lines.push(`  note     ${note}`);
  return `${lines.join('\n')}\n`;
}

export const command: Command = { usage, run };
