// Turns one QEMU run's host-stamped console into a timing per hand-off. The points, in order:
//   T0           KTS-DT-T0, printed by the guest right before the command;
//   shutdown     the first unit systemd stops (KTS-EXECSTOP from arm_stop_marker), or, on the bare
//                path that stops nothing, the end of the load (KTS-DT-LOADED);
//   jump         the old kernel's last word: "kexec_core: Starting new kernel" (KERN_NOTICE, hence
//                loglevel=6 on the command line) or "reboot: Restarting system" (KERN_EMERG);
//   new kernel   its "Linux version" banner, printed as soon as earlyprintk registers;
//   userspace    KTS-BOOT of the next boot: the scenario unit, After=multi-user.target.
import type { PlannedHandOff, DowntimePath } from './downtime-guest.js';
import type { TimedLine } from './timed-qemu.js';

export interface HandOffTiming extends PlannedHandOff {
  /** T0 to the first unit stopped (orderly paths) or the load's end (bare path). */
  commandMs?: number;
  /** From there to the old kernel's last line. */
  shutdownMs?: number;
  /** The old kernel's last line to the new kernel's first. */
  jumpMs?: number;
  /** The new kernel's first line to its userspace marker. */
  bootMs?: number;
  totalMs?: number;
  /** `systemd-analyze time` in the boot landed in, as the guest saw it. */
  startupFinished?: string;
  /** The boot landed in replayed the root filesystem's journal. */
  ext4Recovered: boolean;
  /** Why a point is missing, when one is. */
  problem?: string;
}

const KERNEL_HANDS_OVER = /kexec_core: Starting new kernel|reboot: Restarting system/;
const NEW_KERNEL_BANNER = /Linux version \d/;

/** Index of the first line from `from` on (before `to`) that satisfies `test`, or -1. */
function findLine(lines: TimedLine[], from: number, to: number, test: (text: string) => boolean): number {
  for (let index = Math.max(0, from); index < to; index++) if (test(lines[index]!.text)) return index;
  return -1;
}

function markerTest(name: string, value: string): (text: string) => boolean {
  const exact = `KTS-${name}:${value}`;
  return (text) => {
    const at = text.indexOf(exact);
    if (at === -1) return false;
    // A kernel message may follow on the same line; another digit would be another boot.
    return !/[0-9]/.test(text[at + exact.length] ?? '');
  };
}

function markerValue(line: TimedLine | undefined, name: string): string | undefined {
  if (line === undefined) return undefined;
  const prefix = `KTS-${name}:`;
  return line.text.slice(line.text.indexOf(prefix) + prefix.length);
}

export function handOffTimings(lines: TimedLine[], planned: PlannedHandOff[]): HandOffTiming[] {
  return planned.map((plan) => {
    const timing: HandOffTiming = { ...plan, ext4Recovered: false };
    const t0 = findLine(lines, 0, lines.length, markerTest('DT-T0', `${plan.boot} ${plan.handOff} ${plan.round}`));
    if (t0 === -1) return { ...timing, problem: 'no T0 marker (an earlier boot failed or the run timed out)' };
    const landed = findLine(lines, t0, lines.length, markerTest('BOOT', String(plan.boot + 1)));
    const end = landed === -1 ? lines.length : landed;
    const failed = findLine(lines, t0, end, markerTest('DT-FAILED', `${plan.boot}`));
    if (failed !== -1) return { ...timing, problem: `the command failed: ${markerValue(lines[failed], 'DT-FAILED')}` };
    const shutdownStarts = plan.handOff === 'kexec-tools-bare'
      ? findLine(lines, t0, end, markerTest('DT-LOADED', String(plan.boot)))
      : findLine(lines, t0, end, markerTest('EXECSTOP', String(plan.boot)));
    const handsOver = findLine(lines, t0, end, (text) => KERNEL_HANDS_OVER.test(text));
    const banner = handsOver === -1 ? -1 : findLine(lines, handsOver + 1, end, (text) => NEW_KERNEL_BANNER.test(text));
    const at = (index: number) => (index === -1 ? undefined : lines[index]!.atMs);
    const span = (from: number, to: number) => {
      const [start, stop] = [at(from), at(to)];
      return start === undefined || stop === undefined ? undefined : stop - start;
    };
    timing.commandMs = span(t0, shutdownStarts);
    timing.shutdownMs = span(shutdownStarts, handsOver);
    timing.jumpMs = span(handsOver, banner);
    timing.bootMs = span(banner, landed);
    timing.totalMs = span(t0, landed);
    if (landed === -1) timing.problem = 'the next boot never reached its scenario unit';
    else if (handsOver === -1 || banner === -1) timing.problem = 'no kernel hand-over or banner line on the console';
    const nextBoot = String(plan.boot + 1);
    const afterLanding = landed === -1 ? lines.length : landed;
    timing.startupFinished = markerValue(lines[findLine(lines, afterLanding, lines.length, markerTest('DT-STARTUP', nextBoot))], 'DT-STARTUP')
      ?.slice(nextBoot.length + 1);
    const recovery = findLine(lines, afterLanding, lines.length, (text) => markerTest('EXT4', nextBoot)(text) && /recovery complete|orphan/i.test(text));
    const nextT0 = findLine(lines, afterLanding, lines.length, markerTest('DT-T0', `${plan.boot + 1}`));
    timing.ext4Recovered = recovery !== -1 && (nextT0 === -1 || recovery < nextT0);
    return timing;
  });
}

/** The seconds `systemd-analyze time` gives for each stage: "Startup finished in 2.1s (kernel) + ...". */
export function startupStages(startupFinished: string | undefined): Record<string, number> {
  const stages: Record<string, number> = {};
  for (const match of (startupFinished ?? '').matchAll(/(?:(\d+)min )?([\d.]+)(ms|s) \((\w+)\)/g)) {
    const seconds = Number(match[1] ?? 0) * 60 + Number(match[2]) / (match[3] === 'ms' ? 1000 : 1);
    stages[match[4]!] = seconds;
  }
  return stages;
}

export type TimingsByPath = Map<DowntimePath, HandOffTiming[]>;

export function byPath(timings: HandOffTiming[]): TimingsByPath {
  const grouped: TimingsByPath = new Map();
  for (const timing of timings) grouped.set(timing.handOff, [...(grouped.get(timing.handOff) ?? []), timing]);
  return grouped;
}
