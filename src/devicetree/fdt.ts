// The blob itself, both ways: parseFdt reads the structure (parse.ts), serializeFdt writes it
// (serialize.ts), both from the one header layout in layout.ts.
export { DEVICETREE_FORMAT, parseFdt, probeFdt } from './parse.js';
export { serializeFdt } from './serialize.js';
