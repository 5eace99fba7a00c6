/**
 * UTF-8 / Latin-1 text codecs. TextDecoder/TextEncoder exist in every runtime core targets (Node, browsers,
 * workers) but not in the ES library typings core compiles against, hence this typed access through globalThis.
 */

interface DecoderLike {
  decode(input: Uint8Array): string;
}
interface Codecs {
  TextDecoder: new (label?: string, options?: { fatal?: boolean }) => DecoderLike;
  TextEncoder: new () => { encode(input: string): Uint8Array };
}

const codecs = globalThis as unknown as Codecs;
const strictUtf8 = new codecs.TextDecoder('utf-8', { fatal: true });
const latin1 = new codecs.TextDecoder('latin1');
const encoder = new codecs.TextEncoder();

/** Decodes UTF-8, throwing `TypeError` on invalid input. */
export function decodeUtf8(bytes: Uint8Array): string {
  return strictUtf8.decode(bytes);
}

/** Decodes Latin-1 (Python 2 byte strings in pickles). */
export function decodeLatin1(bytes: Uint8Array): string {
  return latin1.decode(bytes);
}

/** Encodes a string as UTF-8. */
export function encodeUtf8(text: string): Uint8Array {
  return encoder.encode(text);
}
