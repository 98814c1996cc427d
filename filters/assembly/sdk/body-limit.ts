// Request body size checks shared by the modules that buffer bodies (auth, redact): a declared
// Content-Length is judged before any byte arrives.

/** Whether a Content-Length value exceeds `max` (a malformed value counts as too large to trust). */
export function contentLengthTooLarge(contentLength: string, max: u32): bool {
  const v = contentLength.trim();
  if (v.length == 0 || v.length > 15) return true;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return true;
  }
  return U64.parseInt(v) > <u64>max;
}
