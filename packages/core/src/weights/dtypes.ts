/** Conversions of stored number formats into what TF.js tensors hold (float32, int32, bool). */

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Throws unless the platform is little-endian (every weight format here is little-endian). */
export function assertLittleEndian(format: string): void {
  if (!LITTLE_ENDIAN) throw new Error(`${format}: big-endian platforms are not supported`);
}

/** Copies `bytes` (any alignment) into a new typed array of `count` elements of `T`. */
function copyAligned<T extends Float32Array | Int32Array | Float64Array | Int16Array | Uint16Array | BigInt64Array>(
  Ctor: { new (n: number): T },
  bytes: Uint8Array,
  count: number,
): T {
  const out = new Ctor(count);
  new Uint8Array(out.buffer).set(bytes.subarray(0, out.byteLength));
  return out;
}

/** IEEE half precision to single precision. */
export function float16ToFloat32(bytes: Uint8Array, count: number): Float32Array {
  const h = copyAligned(Uint16Array, bytes, count);
  const out = new Float32Array(count);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < count; i++) {
    const v = h[i]!;
    const sign = (v & 0x8000) << 16;
    const exp = (v >> 10) & 0x1f;
    const mant = v & 0x3ff;
    if (exp === 0) {
      // zero or subnormal: mant * 2^-24
      out[i] = (sign ? -1 : 1) * mant * 5.960464477539063e-8;
    } else if (exp === 0x1f) {
      u[i] = sign | 0x7f800000 | (mant << 13);
    } else {
      u[i] = sign | ((exp + 112) << 23) | (mant << 13);
    }
  }
  return out;
}

/** bfloat16 to single precision (the upper half of a float32). */
export function bfloat16ToFloat32(bytes: Uint8Array, count: number): Float32Array {
  const h = copyAligned(Uint16Array, bytes, count);
  const out = new Float32Array(count);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < count; i++) u[i] = h[i]! << 16;
  return out;
}

/** float32 copy (any alignment). */
export function float32Copy(bytes: Uint8Array, count: number): Float32Array {
  return copyAligned(Float32Array, bytes, count);
}

/** float64 to float32. */
export function float64ToFloat32(bytes: Uint8Array, count: number): Float32Array {
  return Float32Array.from(copyAligned(Float64Array, bytes, count));
}

/** int32 copy (any alignment). */
export function int32Copy(bytes: Uint8Array, count: number): Int32Array {
  return copyAligned(Int32Array, bytes, count);
}

/** int16 to int32. */
export function int16ToInt32(bytes: Uint8Array, count: number): Int32Array {
  return Int32Array.from(copyAligned(Int16Array, bytes, count));
}

/**
 * int64 to int32 (TF.js has no int64). Throws `RangeError` naming the first value outside the int32 range.
 */
export function int64ToInt32(bytes: Uint8Array, count: number): Int32Array {
  const wide = copyAligned(BigInt64Array, bytes, count);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const v = wide[i]!;
    if (v > 2147483647n || v < -2147483648n) {
      throw new RangeError(`int64 value ${v} at index ${i} does not fit in int32`);
    }
    out[i] = Number(v);
  }
  return out;
}

/** int8 to int32. */
export function int8ToInt32(bytes: Uint8Array, count: number): Int32Array {
  return Int32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, count));
}

/** uint8 to int32. */
export function uint8ToInt32(bytes: Uint8Array, count: number): Int32Array {
  return Int32Array.from(bytes.subarray(0, count));
}

/** Bytes (0/1) to a boolean-valued Uint8Array. */
export function boolCopy(bytes: Uint8Array, count: number): Uint8Array {
  return Uint8Array.from(bytes.subarray(0, count), (b) => (b ? 1 : 0));
}
