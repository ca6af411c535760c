// Golden outputs for the ISO fixtures: the boot entries of each image and the names each
// namespace gives the isolinux image's files, as JSON in test/bootcfg/goldens/iso-*.json. They
// were reviewed by hand when first written; the rules they show have their own assertions in
// iso-reader.test.ts and iso-boot-entries.test.ts. Regenerate with
// `node scripts/update-goldens.mjs iso-goldens` (or KEXEC_TS_UPDATE_GOLDENS=1) and review the diff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { isoBootEntries } from '../../src/bootcfg/iso9660/boot-entries.js';
import { withIsoFile } from '../../src/bootcfg/iso9660/file-source.js';
import type { IsoNameSpace } from '../../src/bootcfg/iso9660/iso.js';
import { GOLDENS_DIR } from './fixtures.js';
import { isoFixtures, type IsoFixtures } from './iso-fixtures.js';

const CASES: { golden: string; what: string; make: (fixtures: IsoFixtures) => unknown }[] = [
  {
    golden: 'iso-isolinux.json',
    what: 'boot entries of the isolinux image (xorriso, El Torito), booted as a disc',
    make: (fixtures) => withIsoFile(fixtures.isolinuxIso, (iso) => isoBootEntries(iso)),
  },
  {
    golden: 'iso-grub-rescue-loopback.json',
    what: 'boot entries of the grub-mkrescue image booted from /isos/debian-netboot.iso',
    make: (fixtures) => withIsoFile(fixtures.grubRescueIso, (iso) => isoBootEntries(iso, { isoPath: '/isos/debian-netboot.iso' })),
  },
  {
    golden: 'iso-isolinux-names.json',
    what: "the isolinux image's volume, boot catalog, and its root and /names in each namespace",
    make: (fixtures) => (['rock-ridge', 'joliet', 'plain'] as IsoNameSpace[]).map((names) =>
      withIsoFile(fixtures.isolinuxIso, (iso) => ({
        nameSpace: iso.nameSpace,
        volume: iso.volume,
        bootCatalog: iso.bootCatalog(),
        root: iso.list('/'),
        names: [...iso.walk('/names')],
      }), { names })),
  },
];

const update = process.env.KEXEC_TS_UPDATE_GOLDENS === '1';

for (const testCase of CASES) {
  test(`golden: ${testCase.what}`, (t) => {
    const fixtures = isoFixtures(t);
    if (!fixtures) return;
    const actual = `${JSON.stringify(testCase.make(fixtures), null, 2)}\n`;
    const goldenPath = path.join(GOLDENS_DIR, testCase.golden);
    if (update) {
      fs.mkdirSync(GOLDENS_DIR, { recursive: true });
      fs.writeFileSync(goldenPath, actual);
      return;
    }
    assert.ok(fs.existsSync(goldenPath), `${goldenPath} is missing: run node scripts/update-goldens.mjs iso-goldens and review it`);
    assert.equal(actual, fs.readFileSync(goldenPath, 'utf8'), `${testCase.golden} differs: if the change is intended, regenerate and review`);
  });
}
