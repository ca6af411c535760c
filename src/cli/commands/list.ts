import { parseCommandArgs } from '../args.js';
import { formatBootConfigWarning, readBootList, type ListedEntry } from '../../bootcfg/machine.js';
import { VOLUME_SHAPES, type VolumeShape } from '../../bootcfg/volume-shape.js';
import { UsageError } from '../../errors.js';
import { ExitCode } from '../exit-codes.js';
import { writeJson, type CommandOutput } from '../output.js';
import type { Command } from '../cli.js';
import { readAllDisks } from '../../bootcfg/disks/all-disks.js';
import type { AllDisksReport, DiskDevice } from '../../bootcfg/disks/types.js';

const usage = `Usage: kexec-ts list [--root DIR [--shape S]] [--esp DIR] [--iso FILE] [--json]
       kexec-ts list --all-disks [--iso-dir DIR]... [--json]
Every boot entry this machine has: its boot loader's configuration (GRUB, Boot Loader
Specification entries, syslinux/extlinux, or the kernels in /boot) and the Unified Kernel Images
in EFI/Linux on the ESP. The default is marked *; an entry kexec cannot boot says why. No root needed.
  --root DIR   read the system installed at DIR instead of /; DIR may also be a /boot partition,
               an ESP or XBOOTLDR partition, or installer media (recognised, and said which)
  --shape S    read DIR as S (system-root, boot-partition, esp, xbootldr, installer-media)
  --esp DIR    the EFI system partition (default: /efi, /boot/efi or /boot under the root)
  --iso FILE   also the entries of an ISO image's own boot menus (read in place, no mount), with
               what its loopback configs add for a boot from the image file
  --all-disks  every block device's file systems instead (root only): each mounted read-only
               in a private mount namespace (the machine's mounts never see it), read as --root
               reads a directory, unmounted; encrypted, LVM, swap and unreadable devices are
               listed as skipped with the reason. Entries are named DEVICE:INDEX for reboot --all-disks
  --iso-dir DIR  with --all-disks: also the *.iso files in DIR (relative to each file system's
               root), read in place; may be given several times`;

export type { ListedEntry } from '../../bootcfg/machine.js';

/** Where entries come from, as `list` and `reboot` both take it. */
export const VOLUME_OPTIONS = {
  root: { type: 'string' },
  esp: { type: 'string' },
  iso: { type: 'string' },
  shape: { type: 'string' },
  'all-disks': { type: 'boolean' },
  'iso-dir': { type: 'string', multiple: true },
} as const;

async function run(args: string[], output: CommandOutput): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, VOLUME_OPTIONS);
  if (positionals.length > 0) throw new UsageError(`list takes no arguments.\n${usage}`);
  if (values['all-disks'] === true) return listAllDisks(values, output);
  if (values['iso-dir'] !== undefined) throw new UsageError(`--iso-dir goes with --all-disks.\n${usage}`);
  const listed = readBootList(values.root ?? '/', {
    ...(values.esp !== undefined ? { espDir: values.esp } : {}),
    ...(values.iso !== undefined ? { isoFile: values.iso } : {}),
    ...shapeOption(values.shape),
  });
  const warnings = listed.warnings.map(formatBootConfigWarning);
  if (output.json) {
    writeJson(output, { ok: true, command: 'list', shape: listed.shape.shape, shapeEvidence: listed.shape.evidence, loader: listed.loader, configFile: listed.configFile, entries: listed.entries, warnings });
    return ExitCode.OK;
  }
  output.err(formatWarnings(warnings));
  if (listed.entries.length === 0) {
    output.out(
      listed.configFile !== undefined
        ? `No boot entries in ${listed.configFile}${warnings.length > 0 ? ` (${warnings.length} warning${warnings.length === 1 ? '' : 's'} above)` : ''}, and no UKIs on the ESP.\n`
        : `No boot entries found under ${values.root ?? '/'} (no GRUB, BLS or syslinux configuration, no kernels in /boot, no UKIs on the ESP).\n`,
    );
    return ExitCode.OK;
  }
  const where = `${values.root ?? '/'} read as ${SHAPE_NAMES[listed.shape.shape]} (${listed.shape.evidence})`;
  output.out(`${formatEntries(listed.entries)}\n(from ${listed.configFile ?? listed.loader}${listed.entries.some((entry) => entry.origin === 'uki') ? ' and the ESP' : ''}${values.iso !== undefined ? ` and ${values.iso}` : ''}; ${where})\n`);
  return ExitCode.OK;
}

const SHAPE_NAMES: Record<VolumeShape, string> = {
  'system-root': 'a system root',
  'boot-partition': 'a /boot partition',
  esp: 'an EFI system partition',
  xbootldr: 'an XBOOTLDR partition',
  'installer-media': 'installer or live media',
};

/** `--shape` checked against the shapes the library knows. */
export function shapeOption(value: string | undefined): { shape?: VolumeShape } {
  if (value === undefined) return {};
  if (!(VOLUME_SHAPES as readonly string[]).includes(value)) throw new UsageError(`--shape must be one of ${VOLUME_SHAPES.join(', ')}.`);
  return { shape: value as VolumeShape };
}

/** Warnings met reading the configuration, for people: the first few, and how many more. */
export function formatWarnings(warnings: readonly string[], shown = 5): string {
  if (warnings.length === 0) return '';
  const more = warnings.length - shown;
  return `${warnings.slice(0, shown).map((warning) => `warning: ${warning}\n`).join('')}${more > 0 ? `warning: ... and ${more} more (--json lists them all)\n` : ''}`;
}

/** One block per entry: index, default mark, title, then what would be loaded, or why it cannot be. */
export function formatEntries(entries: readonly ListedEntry[]): string {
  return entries
    .map((entry, index) => {
      const head = `${entry.isDefault ? '*' : ' '} ${String(index).padStart(2)}  ${entry.title}${entry.version !== undefined && !entry.title.includes(entry.version) ? ` (${entry.version})` : ''}  [${entry.origin}: ${entry.id}]`;
      if (entry.unbootableReason !== undefined) return `${head}\n        cannot kexec: ${entry.unbootableReason.message}`;
      const inImage = entry.iso !== undefined ? ` (in ${entry.iso.imageFile ?? 'the ISO image'})` : '';
      const lines = [head, `        kernel  ${entry.kernelFile ?? entry.kernel ?? '?'}${inImage}`];
      if (entry.initrdFiles.length > 0) lines.push(`        initrd  ${entry.initrdFiles.join(' + ')}`);
      const cmdline =
        entry.cmdlineOrigin === 'unknown'
          ? `(not known: ${entry.cmdlineUnknownReason ?? 'no configuration gives one'}; reboot needs --append or --reuse-cmdline)`
          : entry.cmdline === ''
            ? entry.origin === 'uki'
              ? "(the UKI's own)"
              : '(empty)'
            : `${entry.cmdline}${entry.cmdlineOrigin === 'this-boot' ? "  (this boot's)" : ''}`;
      lines.push(`        cmdline ${cmdline}`);
      return lines.join('\n');
    })
    .join('\n');
}

/** --all-disks: no other place to read from goes with it (they name one volume). */
export function allDisksConflicts(values: Record<string, unknown>, command: string): void {
  const others = ['root', 'esp', 'iso', 'shape'].filter((name) => values[name] !== undefined);
  if (others.length > 0) throw new UsageError(`${command} --all-disks reads every disk: it does not take ${others.map((name) => `--${name}`).join(', ')}.`);
}

async function listAllDisks(values: Record<string, unknown>, output: CommandOutput): Promise<number> {
  allDisksConflicts(values, 'list');
  const report = await readAllDisks({ isoDirs: (values['iso-dir'] as string[] | undefined) ?? [] });
  if (output.json) {
    writeJson(output, { ok: true, command: 'list', allDisks: true, volumes: report.volumes, entries: report.entries, skipped: report.skipped });
    return ExitCode.OK;
  }
  output.out(formatAllDisks(report));
  return ExitCode.OK;
}

/** A device in one line: path, what is on it, its names. */
export function formatDevice(device: DiskDevice): string {
  const names = [device.label !== null ? `LABEL="${device.label}"` : undefined, device.uuid !== null ? `UUID=${device.uuid}` : undefined, device.partuuid !== null ? `PARTUUID=${device.partuuid}` : undefined];
  return [device.path, device.fstype ?? '(nothing found)', ...names.filter((name) => name !== undefined)].join('  ');
}

/** Device by device: its entries as `list` shows a volume's (the index is the ID on that device), then what was skipped and why. */
export function formatAllDisks(report: AllDisksReport): string {
  const blocks = report.volumes.map((volume) => {
    const entries = report.entries.filter((entry) => entry.device.path === volume.device.path);
    const where = `read as ${SHAPE_NAMES[volume.shape]} (${volume.shapeEvidence})${volume.configFile !== null ? `; ${volume.configFile}` : ''}${volume.isoFiles.length > 0 ? `; ISO files: ${volume.isoFiles.join(', ')}` : ''}`;
    const warnings = volume.warnings.length > 0 ? `\n${formatWarnings(volume.warnings, 3).trimEnd().replace(/^/gm, '  ')}` : '';
    const body = entries.length > 0 ? `\n${formatEntries(entries)}` : '\n    (no boot entries)';
    return `${formatDevice(volume.device)}\n  ${where}${warnings}${body}`;
  });
  const skipped = report.skipped.map((skip) => `  ${formatDevice(skip.device)}\n      ${skip.reason}`);
  const select = report.entries.length > 0 ? `\n(boot one with: kexec-ts reboot --all-disks DEVICE:INDEX, e.g. ${report.entries.find((entry) => entry.isDefault)?.select ?? report.entries[0]!.select})` : '';
  return `${blocks.length > 0 ? blocks.join('\n\n') : 'No file system was read on any disk.'}${skipped.length > 0 ? `\n\nSkipped:\n${skipped.join('\n')}` : ''}${select}\n`;
}

export const command: Command = { usage, run };
