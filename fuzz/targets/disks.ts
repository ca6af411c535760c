// Fuzz target for `list --all-disks` (src/bootcfg/disks/): blkid's udev-format output, as it is
// parsed, weighed (mount or skip) and named (DEVICE:ID). The seeds are real `blkid -p -o udev`
// outputs (util-linux 2.38.1, Debian 12) of images made with mkfs.ext4, mkfs.vfat, mkswap,
// cryptsetup luksFormat and sfdisk, as test/bootcfg/disks-root.test.ts makes them.
import { parseBlkidUdev } from '../../src/bootcfg/disks/blkid.js';
import { classifyDevice, diskDevice } from '../../src/bootcfg/disks/classify.js';
import { parseDiskEntrySpec } from '../../src/bootcfg/disks/select.js';
import type { SysfsBlockDevice } from '../../src/bootcfg/disks/sysfs.js';
import type { Seed } from '../mutate.js';
import { eachStep, utf8, type FuzzTarget } from './target.js';

const BLKID_OUTPUTS: Record<string, string> = {
  ext4: 'ID_FS_LABEL=my_label_é\nID_FS_LABEL_ENC=my\\x20label\\x20é\nID_FS_UUID=8d06e2da-6197-46a4-9dbb-5457181a8d10\nID_FS_UUID_ENC=8d06e2da-6197-46a4-9dbb-5457181a8d10\nID_FS_VERSION=1.0\nID_FS_BLOCK_SIZE=1024\nID_FS_TYPE=ext4\nID_FS_USAGE=filesystem\n',
  vfat: 'ID_FS_SEC_TYPE=msdos\nID_FS_LABEL_FATBOOT=ESP_ONE\nID_FS_LABEL_FATBOOT_ENC=ESP\\x20ONE\nID_FS_LABEL=ESP_ONE\nID_FS_LABEL_ENC=ESP\\x20ONE\nID_FS_UUID=10E7-E67C\nID_FS_UUID_ENC=10E7-E67C\nID_FS_VERSION=FAT16\nID_FS_BLOCK_SIZE=512\nID_FS_TYPE=vfat\nID_FS_USAGE=filesystem\n',
  swap: 'ID_FS_LABEL=KTS-SWAP\nID_FS_LABEL_ENC=KTS-SWAP\nID_FS_UUID=03ab54ff-5fde-4eee-a1f0-e2c109238244\nID_FS_UUID_ENC=03ab54ff-5fde-4eee-a1f0-e2c109238244\nID_FS_VERSION=1\nID_FS_TYPE=swap\nID_FS_USAGE=other\n',
  luks2: 'ID_FS_VERSION=2\nID_FS_UUID=c111c4c5-1ba3-4241-86fb-b1bbcabb3bec\nID_FS_UUID_ENC=c111c4c5-1ba3-4241-86fb-b1bbcabb3bec\nID_FS_TYPE=crypto_LUKS\nID_FS_USAGE=crypto\n',
  gpt: 'ID_PART_TABLE_UUID=f9608d7f-f444-004a-ba90-2bdbe323f601\nID_PART_TABLE_TYPE=gpt\n',
};

const DICTIONARY = ['ID_FS_TYPE=', 'ID_FS_USAGE=', 'ID_FS_UUID_ENC=', 'ID_FS_LABEL_ENC=', 'ID_PART_ENTRY_UUID=', 'ID_PART_ENTRY_NAME=', 'ID_PART_TABLE_TYPE=', '\\x', '\\x3a', '\\xzz', ':', '=', '\n', 'crypto_LUKS', 'LVM2_member', 'swap', 'vfat', 'raid', '\u0000'];

const DISK: SysfsBlockDevice = { name: 'sdz1', devPath: '/dev/sdz1', majorMinor: '65:145', sizeBytes: 1 << 20, partition: 1, parent: 'sdz', partitions: [], readOnly: false, holders: [], dmName: undefined, loopBackingFile: undefined };

export const DISKS_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'blkid-udev',
    description: 'parseBlkidUdev, then classifyDevice and parseDiskEntrySpec on what it found',
    text: true,
    maxBytes: 96 * 1024,
    seeds: async (): Promise<Seed[]> => Object.entries(BLKID_OUTPUTS).map(([name, text]) => ({ name: `blkid -p -o udev (${name})`, bytes: new Uint8Array(Buffer.from(text, 'utf8')) })),
    dictionary: DICTIONARY,
    run(bytes) {
      const text = utf8(bytes);
      const probe = parseBlkidUdev(text);
      const device = diskDevice(DISK, { kind: 'found', probe });
      classifyDevice(DISK, { kind: 'found', probe });
      // The label or UUID found, and the raw text, as what a user might type after them.
      eachStep([
        () => parseDiskEntrySpec(`${device.label ?? device.path}:${text.slice(0, 64)}`, [device]),
        () => parseDiskEntrySpec(text.slice(0, 256), [device]),
      ], 'all');
    },
  },
];
