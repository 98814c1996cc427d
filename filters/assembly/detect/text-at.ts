// The detectors read their text one UTF-16 unit at a time, in several passes per string.
// String#charCodeAt is not inlined by the optimizer: a call per character, the largest single
// item in a profile of the redact module. The scanners use this inlined equivalent instead; it
// gives exactly what charCodeAt gives, -1 included for an index outside the string.

/** text.charCodeAt(i), inlined. */
@inline export function codeAt(text: string, i: i32): i32 {
  // Safe: the index is checked against the string's length before the load.
  return <u32>i < <u32>text.length ? <i32>load<u16>(changetype<usize>(text) + (<usize>i << 1)) : -1;
}

/**
 * text.indexOf(lit, from) for a non-empty literal. String#indexOf calls a compare function at
 * every position; this only compares further where the first unit matches.
 */
export function findLit(text: string, lit: string, from: i32): i32 {
  const n = text.length;
  const m = lit.length;
  const t = changetype<usize>(text);
  const l = changetype<usize>(lit);
  // Safe: every load is at an index below n (text) or m (lit), checked by the loop bounds.
  const first = load<u16>(l);
  for (let i = from < 0 ? 0 : from; i <= n - m; i++) {
    if (load<u16>(t + (<usize>i << 1)) != first) continue;
    let k = 1;
    while (k < m && load<u16>(t + (<usize>(i + k) << 1)) == load<u16>(l + (<usize>k << 1))) k++;
    if (k == m) return i;
  }
  return -1;
}

/**
 * The unit at index i of the string whose data starts at `data` (changetype<usize>(text)), for
 * the hottest loops, whose bound already keeps i inside the string: no length load, no check.
 */
@inline export function unitAt(data: usize, i: i32): i32 {
  return <i32>load<u16>(data + (<usize>i << 1));
}
