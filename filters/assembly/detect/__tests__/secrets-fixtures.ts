// Fake but well-formed secrets for the specs, built from a fixed-seed generator so no literal
// key-looking string sits in the repository. Every body carries "FAKE" or "Fake" so a reader (or a
// secret scanner) can see these are not real credentials.

export const ALNUM: string = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
export const UPPER_ALNUM: string = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
export const TOKEN: string = ALNUM + "_-";
export const DIGITS: string = "0123456789";
export const HEX: string = "0123456789abcdef";
export const B64: string = ALNUM + "+/";

let state: u32 = 0x2545f491;

export function reseed(s: u32): void { state = s; }

/** n characters drawn from alphabet (xorshift32: deterministic, no host randomness needed). */
export function rnd(n: i32, alphabet: string): string {
  // Codes first, one string at the end: appending to a string is a copy each time (quadratic at 1 MB).
  const codes = new Array<i32>(n);
  for (let i = 0; i < n; i++) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    codes[i] = alphabet.charCodeAt(<i32>(state % <u32>alphabet.length));
  }
  return String.fromCharCodes(codes);
}

export function openaiLegacy(): string { return "sk-" + rnd(16, ALNUM) + "Fake" + "T3BlbkFJ" + rnd(20, ALNUM); }
export function openaiProject(): string { return "sk-proj-" + rnd(70, TOKEN) + "Fake" + "T3BlbkFJ" + rnd(74, TOKEN); }
export function openaiSvc(): string { return "sk-svcacct-" + rnd(54, TOKEN) + "Fake" + "T3BlbkFJ" + rnd(58, TOKEN); }
export function openaiAdmin(): string { return "sk-admin-" + rnd(54, TOKEN) + "Fake" + "T3BlbkFJ" + rnd(58, TOKEN); }
export function anthropicKey(): string { return "sk-ant-api03-" + rnd(89, TOKEN) + "FakeAA"; }
export function anthropicAdmin(): string { return "sk-ant-admin01-" + rnd(89, TOKEN) + "FakeAA"; }
export function awsId(prefix: string): string { return prefix + "FAKE" + rnd(12, UPPER_ALNUM); }
export function githubClassic(prefix: string): string { return prefix + "Fake" + rnd(32, ALNUM); }
export function githubPat(): string { return "github_pat_" + "Fake" + rnd(18, ALNUM) + "_" + rnd(59, ALNUM); }
export function stripeKey(prefix: string): string { return prefix + "Fake" + rnd(20, ALNUM); }
export function slackBot(): string { return "xoxb-" + rnd(12, DIGITS) + "-" + rnd(13, DIGITS) + "-Fake" + rnd(20, ALNUM); }
export function slackUser(): string {
  return "xoxp-" + rnd(12, DIGITS) + "-" + rnd(12, DIGITS) + "-" + rnd(12, DIGITS) + "-fa4e" + rnd(28, HEX);
}
export function slackWebhook(): string {
  return "https://hooks.slack.com/services/T" + rnd(8, UPPER_ALNUM) + "/B" + rnd(10, UPPER_ALNUM) + "/Fake" + rnd(20, ALNUM);
}
export function googleKey(): string { return "AIza" + "Fake" + rnd(31, TOKEN); }
export function awsSecret(): string { return "Fake" + rnd(36, B64); }

// base64url of {"alg":"HS256","typ":"JWT"} and {"sub":"fake-user","iat":1700000000}
export const JWT_HEADER: string = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
export const JWT_PAYLOAD: string = "eyJzdWIiOiJmYWtlLXVzZXIiLCJpYXQiOjE3MDAwMDAwMDB9";
export function jwt(): string { return JWT_HEADER + "." + JWT_PAYLOAD + "." + "Fake" + rnd(39, TOKEN); }

export function pemBody(lines: i32): string {
  let s = "";
  for (let i = 0; i < lines; i++) s += (i == 0 ? "MIIEFake" + rnd(56, B64) : rnd(64, B64)) + "\n";
  return s;
}
export function pem(label: string): string {
  return "-----BEGIN " + label + "-----\n" + pemBody(4) + "-----END " + label + "-----";
}
