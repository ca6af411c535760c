// Reboot downtime (issue 9): from the command to the new kernel's userspace, on the Debian 13
// and sid systemd roots of test/vm-systemd, for `kexec-ts reboot`, kexec-tools (orderly and
// bare), systemd's own `systemctl kexec`, and a firmware reboot under SeaBIOS and OVMF. Each
// machine chains its boots in one QEMU run, the paths taking turns, so that the paths compared
// in one table shared the host's state. Also runnable alone: node dist/bench/downtime.js
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { readSystemdRootManifest, systemdRootFixture, type DebianSuite } from '../test/vm-systemd/fixtures.js';
import { grubDefaultEntry, systemdGuestSkipReason } from '../test/vm-systemd/guest.js';
import { scenarioDiskFiles } from '../test/vm-systemd/guest-scripts.js';
import { writeKexecTsDisk } from '../test/vm-systemd/kexec-ts-disk.js';
import { median } from './common.js';
import { DOWNTIME_PATH, downtimeScenario, fullCmdline, type DowntimePath, type NextCmdline } from './downtime-guest.js';
import { byPath, handOffTimings, startupStages, type HandOffTiming } from './downtime-timings.js';
import { runTimedQemu } from './timed-qemu.js';

/** Rounds of every path per machine (KEXEC_TS_BENCH_DOWNTIME_ROUNDS overrides). */
const DEFAULT_ROUNDS = 5;
/** A boot under TCG takes 30-60 s (VM-TESTING.md); a run is cut off at this much per boot. */
const PER_BOOT_TIMEOUT_MS = 180_000;
/**
 * A lane (below) stops here, whatever is left: on a busy host a boot takes twice as long. Each
 * machine gets its share by boot count; hand-offs cut off are listed under the tables.
 */
const LANE_BUDGET_MS = 24 * 60_000;
const MEMORY_MIB = 2048;
const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS.fd';
/**
 * Added to every next kernel's command line, the same on every path: loglevel=6 (after the
 * entry's `quiet`) lets KERN_NOTICE through, which "kexec_core: Starting new kernel" and the
 * "Linux version" banner are; earlyprintk prints the banner before the real console registers.
 */
const TIMING_CMDLINE = 'loglevel=6 earlyprintk=serial,ttyS0,115200';

type Firmware = 'SeaBIOS' | 'OVMF';

interface Machine {
  id: string;
  suite: DebianSuite;
  firmware: Firmware;
  handOffs: DowntimePath[];
}

const MACHINES: Machine[] = [
  {
    id: 'trixie',
    suite: 'trixie',
    firmware: 'SeaBIOS',
    handOffs: [DOWNTIME_PATH.kexecTsReboot, DOWNTIME_PATH.kexecToolsOrderly, DOWNTIME_PATH.kexecToolsBare, DOWNTIME_PATH.firmwareReboot],
  },
  { id: 'trixie-ovmf', suite: 'trixie', firmware: 'OVMF', handOffs: [DOWNTIME_PATH.firmwareReboot, DOWNTIME_PATH.kexecTsReboot] },
  { id: 'sid', suite: 'sid', firmware: 'SeaBIOS', handOffs: [DOWNTIME_PATH.kexecTsReboot, DOWNTIME_PATH.systemdKexec] },
];

/**
 * Two machines at a time, one per host core (each guest is one TCG vCPU): trixie's 21 boots in
 * one lane, OVMF's and sid's 11 each in the other, so that a whole run stays near 20 minutes.
 * The paths compared within one machine share its lane's conditions.
 */
const LANES: string[][] = [['trixie'], ['trixie-ovmf', 'sid']];

const PATH_LABEL: Record<DowntimePath, string> = {
  'kexec-ts-reboot': '`kexec-ts reboot` (GRUB default entry, via `systemctl kexec`)',
  'kexec-tools-orderly': '`kexec -l … --reuse-cmdline && systemctl kexec`',
  'kexec-tools-bare': '`kexec -l … && kexec -e` (bare: no shutdown)',
  'systemd-kexec': '`systemctl kexec` alone (systemd loads the entry itself)',
  'firmware-reboot': '`systemctl reboot` through the firmware',
};

interface MachineResult {
  machine: Machine;
  rounds: number;
  timings: HandOffTiming[];
  durationMs: number;
  timedOut: boolean;
  /** Lines seen on the console that help read the points (systemd-shutdown's own words). */
  shutdownLines: string[];
  /** QEMU's start to the first boot's banner and userspace: firmware and direct kernel boot, cold. */
  coldBoot?: { bannerMs: number; userspaceMs: number };
}

function roundsWanted(): number {
  const value = Number(process.env.KEXEC_TS_BENCH_DOWNTIME_ROUNDS ?? DEFAULT_ROUNDS);
  return Number.isInteger(value) && value > 0 ? value : DEFAULT_ROUNDS;
}

function firmwareArgs(firmware: Firmware, workDir: string): string[] {
  if (firmware === 'SeaBIOS') return [];
  const vars = path.join(workDir, 'OVMF_VARS.fd');
  fs.copyFileSync(OVMF_VARS, vars);
  return [
    '-drive', `if=pflash,format=raw,readonly=on,file=${OVMF_CODE}`,
    '-drive', `if=pflash,format=raw,file=${vars}`,
  ];
}

async function measureMachine(machine: Machine, rounds: number, budgetMs: number): Promise<MachineResult> {
  const fixture = systemdRootFixture(machine.suite);
  const entry = grubDefaultEntry(fs.readFileSync(fixture.grubCfgPath, 'utf8'));
  const name = `downtime-${machine.id}`;
  const cmdline: NextCmdline = { entry: entry.cmdline, appended: `${TIMING_CMDLINE} kexects.scenario=${name}` };
  const { scenario, planned } = downtimeScenario(name, machine.handOffs, rounds, cmdline);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `kexec-ts-downtime-${machine.id}-`));
  try {
    const diskPath = path.join(workDir, 'kexec-ts.img');
    writeKexecTsDisk(diskPath, scenarioDiskFiles([scenario]));
    // No -no-reboot: a firmware reboot must restart the machine (SeaBIOS or OVMF, then QEMU's
    // direct kernel boot again with the same -append). kexec never resets the machine.
    const qemuArgs = [
      '-accel', 'tcg', '-smp', '1', '-m', String(MEMORY_MIB),
      '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-nic', 'none',
      ...firmwareArgs(machine.firmware, workDir),
      '-kernel', fixture.vmlinuzPath, '-initrd', fixture.initrdPath,
      '-append', fullCmdline(cmdline),
      '-drive', `file=${fixture.imagePath},format=raw,if=virtio,snapshot=on`,
      '-drive', `file=${diskPath},format=raw,if=virtio,snapshot=on`,
    ];
    const bootCount = planned.length + 1;
    const run = await runTimedQemu(qemuArgs, Math.min(bootCount * PER_BOOT_TIMEOUT_MS, budgetMs), (line) => {
      const boot = /KTS-BOOT:(\d+)/.exec(line.text);
      if (boot) process.stderr.write(`downtime ${machine.id}: boot ${boot[1]} of ${bootCount}\n`);
      if (process.env.KEXEC_TS_VM_VERBOSE === '1') process.stderr.write(`${line.text}\n`);
    });
    if (process.env.KEXEC_TS_BENCH_SERIAL_DIR) {
      fs.writeFileSync(path.join(process.env.KEXEC_TS_BENCH_SERIAL_DIR, `${name}.serial.txt`),
        run.lines.map((line) => `${(line.atMs / 1000).toFixed(3)} ${line.text}`).join('\n'));
    }
    const shutdownLines = [...new Set(run.lines.map((line) => line.text).filter((text) => /systemd-shutdown\[1\]: (Rebooting|Syncing)/.test(text))
      .map((text) => text.replace(/^\[\s*[\d.]+\]\s*/, '')))];
    const firstBanner = run.lines.find((line) => /Linux version \d/.test(line.text));
    const firstUserspace = run.lines.find((line) => line.text.includes('KTS-BOOT:1'));
    const coldBoot = firstBanner && firstUserspace ? { bannerMs: firstBanner.atMs - run.startedAtMs, userspaceMs: firstUserspace.atMs - run.startedAtMs } : undefined;
    return { machine, rounds, timings: handOffTimings(run.lines, planned), durationMs: run.durationMs, timedOut: run.timedOut, shutdownLines, coldBoot };
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

function seconds(values: (number | undefined)[]): string {
  const present = values.filter((value): value is number => value !== undefined);
  if (present.length === 0) return '–';
  return `${(median(present) / 1000).toFixed(2)} (${(Math.min(...present) / 1000).toFixed(2)})`;
}

function medianOf(timings: HandOffTiming[] | undefined, pick: (timing: HandOffTiming) => number | undefined): number | undefined {
  const values = (timings ?? []).map(pick).filter((value): value is number => value !== undefined);
  return values.length === 0 ? undefined : median(values);
}

const jumpAndBoot = (timing: HandOffTiming) => (timing.jumpMs === undefined || timing.bootMs === undefined ? undefined : timing.jumpMs + timing.bootMs);

function machineTable(result: MachineResult): string[] {
  const grouped = byPath(result.timings);
  const rows = result.machine.handOffs.map((handOff) => {
    const timings = (grouped.get(handOff) ?? []).filter((timing) => timing.problem === undefined);
    const label = handOff === 'firmware-reboot' ? `${PATH_LABEL[handOff]} (${result.machine.firmware})` : PATH_LABEL[handOff];
    const stages = timings.map((timing) => startupStages(timing.startupFinished));
    // trixie's initramfs-tools initrd runs no systemd, so it has no initrd stage of its own.
    const guest = stages.length === 0 ? '–' : ['kernel', 'initrd', 'userspace']
      .filter((stage) => stages.some((seen) => seen[stage] !== undefined))
      .map((stage) => `${median(stages.flatMap((seen) => (seen[stage] === undefined ? [] : [seen[stage]!]))).toFixed(1)} (${stage})`).join(' + ');
    const recovered = timings.filter((timing) => timing.ext4Recovered).length;
    return `| ${label} | ${timings.length} | ${seconds(timings.map((timing) => timing.commandMs))} | ${seconds(timings.map((timing) => timing.shutdownMs))} | ` +
      `${seconds(timings.map((timing) => timing.jumpMs))} | ${seconds(timings.map((timing) => timing.bootMs))} | ${seconds(timings.map(jumpAndBoot))} | ` +
      `**${seconds(timings.map((timing) => timing.totalMs))}** | ${guest} | ${recovered}/${timings.length} |`;
  });
  return [
    '| path | n | command → shutdown begins | shutdown → old kernel\'s last line | jump → new kernel\'s first line | new kernel → userspace | jump + boot | **total** | guest\'s own `systemd-analyze time` | ext4 journal replayed |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ];
}

function versions(results: MachineResult[]): string[] {
  const qemu = spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? 'unknown';
  const ovmf = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'ovmf'], { encoding: 'utf8' }).stdout || 'not installed';
  const suites = [...new Set(results.map((result) => result.machine.suite))];
  return [
    `${qemu}; OVMF (Debian package ovmf) ${ovmf}.`,
    ...suites.map((suite) => {
      const manifest = readSystemdRootManifest(systemdRootFixture(suite));
      const version = (name: string) => manifest?.packageVersions[name] ?? '?';
      return `${suite}: kernel ${manifest?.kernelRelease ?? '?'}, systemd ${version('systemd')}, kexec-tools ${version('kexec-tools')}, nodejs ${version('nodejs')} (root built ${manifest?.builtAt ?? '?'}).`;
    }),
  ];
}

function ratio(numerator: number | undefined, denominator: number | undefined): number | undefined {
  return numerator === undefined || denominator === undefined ? undefined : numerator / denominator;
}

function aims(results: MachineResult[]): string[] {
  const find = (id: string) => results.find((result) => result.machine.id === id);
  const ok = (timings: HandOffTiming[] | undefined) => timings?.filter((timing) => timing.problem === undefined);
  const path = (id: string, handOff: DowntimePath) => ok(byPath(find(id)?.timings ?? []).get(handOff));
  const total = (timing: HandOffTiming) => timing.totalMs;
  const verdict = (value: number | undefined, met: (value: number) => boolean, text: (value: number) => string) =>
    value === undefined ? 'not measured' : `${met(value) ? 'met' : '**not met**'} (${text(value)})`;
  const lines: string[] = [];
  const trixieOurs = path('trixie', DOWNTIME_PATH.kexecTsReboot);
  lines.push(`- kexec-ts's jump + boot at most 2% over the bare path's (trixie): ${verdict(ratio(medianOf(trixieOurs, jumpAndBoot), medianOf(path('trixie', DOWNTIME_PATH.kexecToolsBare), jumpAndBoot)), (value) => value <= 1.02, (value) => `${value.toFixed(3)}x`)};`);
  lines.push(`- \`kexec-ts reboot\` at most 2% over kexec-tools' orderly path, command to userspace (trixie): ${verdict(ratio(medianOf(trixieOurs, total), medianOf(path('trixie', DOWNTIME_PATH.kexecToolsOrderly), total)), (value) => value <= 1.02, (value) => `${value.toFixed(3)}x`)};`);
  const sidOurs = path('sid', DOWNTIME_PATH.kexecTsReboot);
  lines.push(`- \`kexec-ts reboot\` no slower than systemd's own \`systemctl kexec\` (sid, systemd loads the kernel itself): ${verdict(ratio(medianOf(sidOurs, total), medianOf(path('sid', DOWNTIME_PATH.systemdKexec), total)), (value) => value <= 1, (value) => `${value.toFixed(3)}x`)};`);
  for (const id of ['trixie', 'trixie-ovmf']) {
    const result = find(id);
    if (!result) continue;
    const firmware = ratio(medianOf(path(id, DOWNTIME_PATH.firmwareReboot), total), medianOf(path(id, DOWNTIME_PATH.kexecTsReboot), total));
    lines.push(`- firmware reboot (${result.machine.firmware}) against \`kexec-ts reboot\`, same run: ${firmware === undefined ? 'not measured' : `${firmware.toFixed(2)}x as long`};`);
  }
  return lines;
}

export async function rebootDowntime(): Promise<string> {
  const heading = '### Reboot downtime: command to the new kernel\'s userspace (systemd roots, QEMU TCG)';
  const reason = systemdGuestSkipReason(['trixie', 'sid']);
  if (reason !== undefined) return `${heading}\n\nnot run: ${reason}`;
  // KEXEC_TS_BENCH_DOWNTIME_MACHINES=trixie,sid measures only those.
  const only = process.env.KEXEC_TS_BENCH_DOWNTIME_MACHINES?.split(',');
  const machines = MACHINES.filter((machine) => (machine.firmware !== 'OVMF' || fs.existsSync(OVMF_CODE)) && (only === undefined || only.includes(machine.id)));
  const rounds = roundsWanted();
  const startedAt = performance.now();
  const measured = await Promise.all(LANES.map(async (lane) => {
    const laneResults: MachineResult[] = [];
    const laneMachines = machines.filter((candidate) => lane.includes(candidate.id));
    const laneBoots = laneMachines.reduce((sum, machine) => sum + machine.handOffs.length, 0);
    for (const machine of laneMachines) laneResults.push(await measureMachine(machine, rounds, LANE_BUDGET_MS * (machine.handOffs.length / laneBoots)));
    return laneResults;
  }));
  const results = machines.flatMap((machine) => measured.flat().filter((result) => result.machine === machine));
  const minutes = ((performance.now() - startedAt) / 60_000).toFixed(1);
  const problems = results.flatMap((result) => result.timings.filter((timing) => timing.problem !== undefined)
    .map((timing) => `- ${result.machine.id} boot ${timing.boot} (${timing.handOff}, round ${timing.round}): ${timing.problem}`));
  return [
    heading,
    '',
    `1 vCPU, ${MEMORY_MIB} MiB per guest; ${rounds} round(s) per path, the paths taking turns boot by boot in one QEMU run per machine; ` +
      `every console line stamped on the host as it arrived. Seconds, median (min). Took ${minutes} min: ` +
      results.map((result) => `${result.machine.id} ${(result.durationMs / 60_000).toFixed(1)} min${result.timedOut ? ' (timed out)' : ''}`).join(', ') + '.',
    `Every next kernel's command line is the GRUB default entry's plus \`${TIMING_CMDLINE} kexects.scenario=…\`.`,
    ...versions(results),
    '',
    ...results.flatMap((result) => [
      `#### ${result.machine.suite}, ${result.machine.firmware}`,
      '',
      ...machineTable(result),
      '',
      ...(result.coldBoot ? [`Cold start for comparison (QEMU started → first boot's banner / userspace): ${(result.coldBoot.bannerMs / 1000).toFixed(2)} / ${(result.coldBoot.userspaceMs / 1000).toFixed(2)} s.`, ''] : []),
    ]),
    ...(problems.length > 0 ? ['Hand-offs left out:', ...problems, ''] : []),
    ...(results.some((result) => result.shutdownLines.length > 0) ? [`systemd-shutdown on the console: ${[...new Set(results.flatMap((result) => result.shutdownLines))].map((line) => `"${line}"`).join(', ')}.`, ''] : []),
    'Aims:',
    ...aims(results),
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await rebootDowntime());
}
