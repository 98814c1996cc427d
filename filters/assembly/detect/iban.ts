// IBANs (ISO 13616): country code, two check digits, the country's BBAN. Written solid or in
// groups of four separated by single spaces. Validated by the per-country length and the mod-97
// check (the number read with letters as 10..35 must leave remainder 1), which a random
// alphanumeric string passes about once in a hundred after the length check.
import { EntityKind, Finding } from "./finding";
import { codeAt, unitAt } from "./text-at";
import { isAlnum, isAlpha, isDigit, isUpper, leftBoundary, rightBoundary } from "./chars";

// Country code and total IBAN length, from the SWIFT IBAN registry.
const COUNTRIES: string =
  "AD24AE23AL28AT20AZ28BA20BE16BG22BH22BI27BR29BY28CH21CR22CY28CZ24DE22DJ27DK18DO28EE20EG29ES24" +
  "FI18FK18FO18FR27GB22GE22GI23GL18GR27GT28HN28HR21HU28IE22IL23IQ23IS26IT27JO30KW30KZ20LB28LC32" +
  "LI21LT20LU20LV21LY25MC27MD24ME22MK19MN20MR27MT31MU30NI28NL18NO15OM23PK24PL28PS29PT25QA29RO24" +
  "RS22RU33SA24SC31SD18SE24SI19SK24SM27SO23ST25SV28TL23TN24TR26UA29VA22VG24XK20YE30";

/** Longest IBAN (Russia, 33) plus the spaces of its grouped form. */
export const IBAN_MAX_WRITTEN: i32 = 33 + 8;

@inline function upper(c: i32): i32 { return c >= 0x61 && c <= 0x7a ? c - 0x20 : c; }

// COUNTRIES as a 26x26 table (first letter, second letter) -> length, so the scan's look-up at
// each word start is one load instead of a walk over the list.
const LENGTHS: StaticArray<u8> = buildLengths();

function buildLengths(): StaticArray<u8> {
  const t = new StaticArray<u8>(26 * 26);
  for (let i = 0; i + 4 <= COUNTRIES.length; i += 4) {
    const a = <i32>COUNTRIES.charCodeAt(i) - 0x41;
    const b = <i32>COUNTRIES.charCodeAt(i + 1) - 0x41;
    t[a * 26 + b] = <u8>((<i32>COUNTRIES.charCodeAt(i + 2) - 0x30) * 10 + (<i32>COUNTRIES.charCodeAt(i + 3) - 0x30));
  }
  return t;
}

/** The IBAN length for the country whose code starts at text[pos], or 0 when it issues none. */
export function ibanLength(text: string, pos: i32): i32 {
  if (pos + 1 >= text.length) return 0;
  const a = upper(<i32>codeAt(text, pos));
  const b = upper(<i32>codeAt(text, pos + 1));
  if (!isUpper(a) || !isUpper(b)) return 0;
  return <i32>LENGTHS[(a - 0x41) * 26 + (b - 0x41)];
}

/** Mod-97 of the IBAN characters in `chars` (no spaces), rotated as ISO 13616 says: == 1 when valid. */
export function ibanMod97(chars: string): i32 {
  let r = 0;
  const n = chars.length;
  for (let k = 0; k < n; k++) {
    const c = upper(<i32>codeAt(chars, (k + 4) % n)); // BBAN first, then country and check digits
    if (isDigit(c)) r = (r * 10 + (c - 0x30)) % 97;
    else r = (r * 100 + (c - 0x41 + 10)) % 97;
  }
  return r;
}

/**
 * Reads an IBAN of `length` characters starting at `pos` (spaces allowed between groups of four,
 * all or none). Returns the end (exclusive), or -1; `partialOk` accepts text that ends early but
 * still fits (the stream hold-back asks "could an IBAN be in progress here?").
 */
export function readIban(text: string, pos: i32, length: i32, partialOk: bool): i32 {
  const n = text.length;
  let count = 0;
  let spaced: i32 = -1; // unknown until the first group boundary
  let p = pos;
  while (count < length) {
    if (p >= n) return partialOk ? n : -1;
    const c = <i32>codeAt(text, p);
    if (count > 0 && count % 4 == 0 && spaced != 0 && c == 0x20 && codeAt(text, p - 1) != 0x20) {
      if (spaced < 0) spaced = 1;
      p++;
      continue;
    }
    if (count > 0 && count % 4 == 0 && spaced < 0) spaced = 0;
    if (count > 0 && count % 4 == 0 && spaced == 1 && codeAt(text, p - 1) != 0x20) return -1;
    if (!isAlnum(c)) return -1;
    if (count < 2 && !isAlpha(c)) return -1;
    if ((count == 2 || count == 3) && !isDigit(c)) return -1;
    count++;
    p++;
  }
  return p;
}

/**
 * Appends the IBANs of `text` to `out`, given where one may start (ascending: two before each
 * digit that follows a letter; findPii lists them). Any other position fails the country code
 * and check digit test below.
 */
export function findIbans(text: string, starts: Array<i32>, out: Array<Finding>): void {
  const n = text.length;
  const data = changetype<usize>(text);
  let next = 0;
  for (let k = 0; k < starts.length; k++) {
    const i = starts[k];
    // Not inside the IBAN just found; and room for a country code and check digits.
    if (i < next || i + 4 > n) continue;
    // Safe below: i + 3 < n.
    const c = unitAt(data, i);
    // The country code is written in capitals, but a lowercase IBAN pasted from a form is still one.
    if (!isAlpha(c) || !isDigit(unitAt(data, i + 2)) || !isDigit(unitAt(data, i + 3)) || !leftBoundary(text, i)) continue;
    const length = ibanLength(text, i);
    if (length == 0 || isUpper(c) != isUpper(<i32>codeAt(text, i + 1))) continue;
    const end = readIban(text, i, length, false);
    if (end > 0 && rightBoundary(text, end)) {
      const chars = text.substring(i, end).replaceAll(" ", "");
      if (ibanMod97(chars) == 1) {
        out.push(new Finding(EntityKind.Iban, i, end));
        next = end;
      }
    }
  }
}
