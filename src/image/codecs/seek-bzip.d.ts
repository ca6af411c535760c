// The part of seek-bzip (CommonJS, untyped) that bzip2.ts drives: its decoder object and the
// per-block steps that its own Bunzip.decode loops over.
declare module 'seek-bzip' {
  interface ByteSource {
    readByte(): number;
    read(buffer: Uint8Array, offset: number, length: number): number;
    seek(position: number): void;
    eof(): boolean;
  }
  interface ByteSink {
    writeByte(byte: number): void;
  }
  class Bunzip {
    constructor(input: ByteSource, output: ByteSink);
    streamCRC: number;
    reader: { read(bits: number): number };
    _init_block(): boolean;
    _read_bunzip(): number;
    static Err: Record<string, number>;
  }
  export = Bunzip;
}
