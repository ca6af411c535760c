import { parseCommandArgs } from '../args.js';
import { readMachineBootEntries, type ResolvedBootEntry } from '../../bootcfg/resolve.js';
import { isoBootEntries, type IsoBootEntry } from '../../bootcfg/iso9660/boot-entries.js';
import { locateIsoFile, withIsoFile } from '../../bootcfg/iso9660/file-source.js';
import { UsageError } from '../../errors.js';
import { ExitCode } from '../exit-codes.js';
import { writeJson, type CommandOutput } from '../output.js';
import type { Command } from '../cli.js';

const usage = `Usage: kexec-ts list [--root DIR] [--esp DIR] [--iso FILE] [--json]
Every boot entry this machine has: its boot loader's configuration (GRUB, Boot Loader
Specification entries, syslinux/extlinux, or the kernels in /boot) and the Unified Kernel Images
in EFI/Linux on the ESP. The default is marked *; an entry kexec cannot boot says why. No root needed.
  --root DIR   read the system installed at DIR instead of /
  --esp DIR    the EFI system partition (default: /efi, /boot/efi or /boot under the root)
  --iso FILE   also the entries of an ISO image's own boot menus (read in place, no mount), with
               what its loopback configs add for a boot from the image file`;

export type ListedEntry = ResolvedBootEntry | IsoBootEntry;

/** The entries of an ISO image, as booted from that image file where it lies. */
export function isoEntries(file: string): { entries: IsoBootEntry[]; warnings: string[] } {
  let location: { isoPath: string; fsUuid?: string } | undefined;
  try {
    location = locateIsoFile(file);
  } catch {
    // Not on a file system we can see (a pipe, a vanished mount): no loopback arguments then.
  }
  const config = withIsoFile(file, (iso) =>
    isoBootEntries(iso, { imageFile: file, ...(location !== undefined ? { isoPath: location.isoPath } : {}), ...(location?.fsUuid !== undefined ? { isoFsUuid: location.fsUuid } : {}) }),
  );
  return { entries: config.entries, warnings: config.warnings.map((warning) => `${file}: ${warning.file ?? ''}${warning.line !== undefined ? `:${warning.line}` : ''}: ${warning.message}`) };
}

/** The entries in the order `list` shows them and `reboot` counts them: loader entries, then UKIs, then an ISO's. */
export function listedEntries(root: string, esp: string | undefined, iso?: string): { entries: ListedEntry[]; loader: string; configFile: string | undefined; warnings: string[] } {
  const found = readMachineBootEntries(root, esp !== undefined ? { espDir: esp } : {});
  const fromIso = iso === undefined ? { entries: [], warnings: [] } : isoEntries(iso);
  const hasDefault = found.config.entries.some((entry) => entry.isDefault);
  const ukis = found.ukis.map((entry, index) => ({ ...entry, isDefault: !hasDefault && found.config.entries.length === 0 && index === 0 }));
  // The machine's default stays the default; an ISO's own default counts only when it is alone.
  const isoDefaults = found.config.entries.length + ukis.length === 0;
  return {
    entries: [...found.config.entries, ...ukis, ...fromIso.entries.map((entry) => ({ ...entry, isDefault: isoDefaults && entry.isDefault }))],
    loader: found.config.loader,
    configFile: found.config.configFile,
    warnings: [...found.config.warnings.map((warning) => `${warning.file ?? ''}${warning.line !== undefined ? `:${warning.line}` : ''}: ${warning.message}`), ...fromIso.warnings],
  };
}

async function run(args: string[], output: CommandOutput): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { root: { type: 'string' }, esp: { type: 'string' }, iso: { type: 'string' } });
  if (positionals.length > 0) throw new UsageError(`list takes no arguments.\n${usage}`);
  const listed = listedEntries(values.root ?? '/', values.esp, values.iso);
  if (output.json) {
    writeJson(output, { ok: true, command: 'list', loader: listed.loader, configFile: listed.configFile, entries: listed.entries, warnings: listed.warnings });
    return ExitCode.OK;
  }
  output.err(formatWarnings(listed.warnings));
  if (listed.entries.length === 0) {
    output.out(
      listed.configFile !== undefined
        ? `No boot entries in ${listed.configFile}${listed.warnings.length > 0 ? ` (${listed.warnings.length} warning${listed.warnings.length === 1 ? '' : 's'} above)` : ''}, and no UKIs on the ESP.\n`
        : `No boot entries found under ${values.root ?? '/'} (no GRUB, BLS or syslinux configuration, no kernels in /boot, no UKIs on the ESP).\n`,
    );
    return ExitCode.OK;
  }
  output.out(`${formatEntries(listed.entries)}\n(from ${listed.configFile ?? listed.loader}${listed.entries.some((entry) => entry.origin === 'uki') ? ' and the ESP' : ''}${values.iso !== undefined ? ` and ${values.iso}` : ''})\n`);
  return ExitCode.OK;
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
          ? "(not known: this /boot has no loader config and is not this system's; reboot needs --append or --reuse-cmdline)"
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

export const command: Command = { usage, run };
