// Byte tests on eight bytes at once (SWAR: SIMD within a register), for the loops that walk whole
// request bodies looking for a few special bytes: most of a prompt has none, so a string's plain
// stretch is skipped a word at a time instead of a byte at a time. Plain u64 arithmetic, no wasm
// SIMD feature needed. The tests are exact (no false answers) when used as booleans.

const ONES: u64 = 0x0101010101010101;
const HIGHS: u64 = 0x8080808080808080;

/** Some byte of v is below n (0 <= n <= 128). */
@inline export function hasByteBelow(v: u64, n: u64): bool { return ((v - ONES * n) & ~v & HIGHS) != 0; }

/** Some byte of v equals b. */
@inline export function hasByte(v: u64, b: u64): bool { return hasByteBelow(v ^ (ONES * b), 1); }

/** Some byte of v is 0x80 or above (not ASCII). */
@inline export function hasHighByte(v: u64): bool { return (v & HIGHS) != 0; }

/** None of the eight bytes needs a look in a JSON string: printable ASCII other than '"' and '\'. */
@inline export function plainJsonBytes(v: u64): bool {
  return !hasHighByte(v) && !hasByteBelow(v, 0x20) && !hasByte(v, 0x22) && !hasByte(v, 0x5c);
}
