// Golden outputs for each committed real configuration: the whole BootConfig as JSON beside
// test/bootcfg/goldens/. They were reviewed by hand when first written; every rule they show
// also has its own assertion in the other test files. Regenerate with
// `node scripts/update-goldens.mjs` (or KEXEC_TS_UPDATE_GOLDENS=1) and review the diff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readBlsConfig } from '../../src/bootcfg/bls/read.js';
import { parseGrubConfig } from '../../src/bootcfg/grub/read.js';
import { createRootedReader } from '../../src/bootcfg/resolve.js';
import { parseSyslinuxConfig } from '../../src/bootcfg/syslinux/parse.js';
import type { BootConfig } from '../../src/bootcfg/types.js';
import { committedFixture, GOLDENS_DIR } from './fixtures.js';

function rooted(name: string) {
  return createRootedReader(committedFixture(name));
}

const CASES: { golden: string; what: string; parse: () => BootConfig }[] = [
  {
    golden: 'debian-netboot-grub.json',
    what: "debian-installer netboot grub.cfg (UEFI network boot)",
    parse: () => {
      const reader = rooted('debian-netboot');
      const file = '/debian-installer/amd64/grub/grub.cfg';
      return parseGrubConfig(reader.readText(file)!, file, { reader });
    },
  },
  {
    golden: 'debian-netboot-pxelinux.json',
    what: 'debian-installer netboot pxelinux.cfg/default with its includes (BIOS network boot)',
    parse: () => {
      const reader = rooted('debian-netboot');
      return parseSyslinuxConfig(reader.readText('/pxelinux.cfg/default')!, '/pxelinux.cfg/default', { reader });
    },
  },
  {
    golden: 'grub-example.json',
    what: "GRUB's example grub.cfg as grub-common packages it",
    parse: () => parseGrubConfig(fs.readFileSync(committedFixture('grub-example/grub.cfg'), 'utf8'), '/boot/grub/grub.cfg'),
  },
  {
    golden: 'debian-grub-mkconfig.json',
    what: 'grub.cfg and grubenv from grub-mkconfig and grub-editenv over a scratch /boot',
    parse: () => {
      const reader = rooted('debian-grub-mkconfig');
      return parseGrubConfig(reader.readText('/boot/grub/grub.cfg')!, '/boot/grub/grub.cfg', { reader, platform: 'pc' });
    },
  },
  {
    golden: 'debian-kernel-install.json',
    what: "BLS entries from kernel-install (Debian's systemd 252)",
    parse: () => readBlsConfig(rooted('debian-kernel-install')),
  },
];

const update = process.env.KEXEC_TS_UPDATE_GOLDENS === '1';

for (const testCase of CASES) {
  test(`golden: ${testCase.what}`, () => {
    const actual = `${JSON.stringify(testCase.parse(), null, 2)}\n`;
    const goldenPath = path.join(GOLDENS_DIR, testCase.golden);
    if (update) {
      fs.mkdirSync(GOLDENS_DIR, { recursive: true });
      fs.writeFileSync(goldenPath, actual);
      return;
    }
    assert.ok(fs.existsSync(goldenPath), `${goldenPath} is missing: run node scripts/update-goldens.mjs and review it`);
    assert.equal(actual, fs.readFileSync(goldenPath, 'utf8'), `${testCase.golden} differs: if the change is intended, regenerate and review`);
  });
}
