import { findSecrets, secretHoldStart } from "../secrets";
import { Finding, ALL_KINDS } from "../finding";
import {
  openaiLegacy, openaiProject, anthropicKey, awsId, githubClassic, githubPat, stripeKey, slackBot, slackWebhook,
  googleKey, jwt, pem, awsSecret, rnd, reseed, ALNUM,
} from "./secrets-fixtures";

/** Some finding of text covers [s, e) (coordinates shifted by base). */
function covers(text: string, base: i32, s: i32, e: i32): bool {
  const f = new Array<Finding>();
  findSecrets(text, ALL_KINDS, f);
  for (let i = 0; i < f.length; i++) if (f[i].start + base <= s && f[i].end + base >= e) return true;
  return false;
}

/**
 * Streams text in two chunks cut at every offset, the way the redactor does: after the first
 * chunk it releases text[0..hold) (redacting what findSecrets finds there) and keeps the rest for
 * the next round. The secret text[s..e) must never be released unredacted.
 */
function expectSafeAtEveryCut(text: string, secret: string): void {
  const s = text.indexOf(secret);
  const e = s + secret.length;
  expect(s).toBeGreaterThanOrEqual(0);
  expect(covers(text, 0, s, e)).toBe(true, "whole text: " + text);
  for (let cut = 0; cut <= text.length; cut++) {
    const first = text.substring(0, cut);
    const hold = secretHoldStart(first);
    expect(hold).toBeLessThanOrEqual(cut);
    expect(hold).toBeGreaterThanOrEqual(0);
    if (hold <= s) {
      expect(covers(text.substring(hold), hold, s, e)).toBe(true, "cut " + cut.toString() + " hold " + hold.toString());
    } else {
      // Released a part of the secret: it must have been found, whole, in what was released.
      expect(e <= hold && covers(first.substring(0, hold), 0, s, e)).toBe(true, "cut " + cut.toString() + " released " + first.substring(0, hold));
    }
  }
}

function safeInProse(secret: string): void {
  expectSafeAtEveryCut("Here it is: " + secret + " thanks.", secret);
  expectSafeAtEveryCut("{\"content\":\"" + secret + "\"}", secret);
  expectSafeAtEveryCut(secret, secret);
}

describe("secretHoldStart: no secret leaks when the stream is cut anywhere", () => {
  it("OpenAI and Anthropic keys", () => {
    safeInProse(openaiLegacy());
    safeInProse(openaiProject());
    safeInProse(anthropicKey());
  });

  it("AWS, GitHub, Stripe, Slack and Google keys", () => {
    safeInProse(awsId("AKIA"));
    safeInProse(awsId("ASIA"));
    safeInProse(githubClassic("ghp_"));
    safeInProse(githubPat());
    safeInProse(stripeKey("sk_live_"));
    safeInProse(slackBot());
    safeInProse(slackWebhook());
    safeInProse(googleKey());
  });

  it("JWTs", () => {
    safeInProse(jwt());
    const t = jwt();
    expectSafeAtEveryCut("Authorization: Bearer " + t + "\n", t);
  });

  it("PEM blocks", () => {
    const b = pem("RSA PRIVATE KEY");
    expectSafeAtEveryCut("key:\n" + b + "\nend", b);
  });

  it("connection-string passwords", () => {
    expectSafeAtEveryCut("url: postgres://app:Xk29dkLq7@db:5432/app ok", "Xk29dkLq7");
    expectSafeAtEveryCut("\"mongodb+srv://svc:Qx7pLm2v@cluster0.example.net/db\"", "Qx7pLm2v");
    expectSafeAtEveryCut("redis://:s3cretRedis77@cache", "s3cretRedis77");
    expectSafeAtEveryCut("uri = 'mysql+pymysql://r:Qx7pLm2v9@10.1.2.3/s'", "Qx7pLm2v9");
  });

  it("keyword + value secrets", () => {
    const v = "Fk" + rnd(18, ALNUM) + "9";
    expectSafeAtEveryCut("password=" + v + " next", v);
    expectSafeAtEveryCut("{\"api_key\": \"" + v + "\"}", v);
    expectSafeAtEveryCut("Authorization: Bearer " + v + "\r\n", v);
    expectSafeAtEveryCut("my.service.client_secret : '" + v + "'", v);
    const a = awsSecret();
    expectSafeAtEveryCut("aws_secret_access_key = " + a + "\n", a);
    const g = githubClassic("ghs_");
    expectSafeAtEveryCut("x https://x-access-token:" + g + "@github.com/a", g);
  });
});

describe("secretHoldStart: tight on ordinary text", () => {
  it("holds nothing after a space, punctuation or a finished line", () => {
    expect(secretHoldStart("")).toBe(0);
    const prose = "The quick brown fox jumps over the lazy dog. The password policy requires twelve characters.\n";
    expect(secretHoldStart(prose)).toBe(prose.length);
    expect(secretHoldStart("Hello world, ")).toBe(13);
    expect(secretHoldStart("version 1.2.3 released.")).toBe(23);
    expect(secretHoldStart("ends with a complete key " + awsId("AKIA") + " ")).toBe(46);
  });

  it("holds at most the last word", () => {
    const t = "all that jazz";
    expect(secretHoldStart(t)).toBe(t.length); // no key, keyword or scheme can start in "jazz"
    // Any cut of ordinary prose holds at most its last word.
    const prose = "Lorem ipsum dolor sit amet, the token budget and the secret sauce of postgres tuning. Done";
    for (let c = 0; c <= prose.length; c++) {
      const cutText = prose.substring(0, c);
      // Start of the last word (a keyword followed by spaces is held until its separator shows).
      let w = c;
      while (w > 0 && prose.charCodeAt(w - 1) == 0x20) w--;
      while (w > 0 && prose.charCodeAt(w - 1) != 0x20) w--;
      expect(secretHoldStart(cutText)).toBeGreaterThanOrEqual(w, cutText);
    }
    const u = "we talked about the secret";
    expect(secretHoldStart(u)).toBe(u.length - 6);
    const w = "and then the tok";
    expect(secretHoldStart(w)).toBe(w.length - 3);
    const k = "set aws_secret_access_k";
    expect(secretHoldStart(k)).toBe(4); // the whole key: its name decides the kind
    const x = "a key like sk-pr";
    expect(secretHoldStart(x)).toBe(x.length - 5);
    const y = "written as AK";
    expect(secretHoldStart(y)).toBe(y.length - 2);
    const z = "connect to postgr";
    expect(secretHoldStart(z)).toBe(z.length - 6);
  });

  it("holds an open private key block from its BEGIN, whatever its length", () => {
    const head = "see\n-----BEGIN OPENSSH PRIVATE KEY-----\n";
    expect(secretHoldStart(head)).toBe(4);
    expect(secretHoldStart(head + rnd(5000, ALNUM))).toBe(4);
    expect(secretHoldStart(head + "abc\n-----END OPENSSH PRIV")).toBe(4);
    expect(secretHoldStart(head + "abc\n-----END OPENSSH PRIVATE KEY-----\n")).toBe(head.length + 38);
    expect(secretHoldStart("text -----BEGI")).toBe(5);
    expect(secretHoldStart("-----BEGIN CERTIFICATE-----\nxyz")).toBe(31);
  });

  it("holds an open URL authority from its scheme, and an assignment from its key", () => {
    expect(secretHoldStart("use mysql://app:s3cr")).toBe(4);
    expect(secretHoldStart("use mysql://app:s3cr@db/x ")).toBe(26);
    expect(secretHoldStart("db: redis:/")).toBe(4);
    expect(secretHoldStart("x postgresql+psy")).toBe(2);
    expect(secretHoldStart("x postgresql+psycopg2://etl:Fk")).toBe(2);
    expect(secretHoldStart("x token = \"ab")).toBe(2);
    expect(secretHoldStart("x \"token\" ")).toBe(3);
    expect(secretHoldStart("x token=abc; ")).toBe(13);
  });

  it("stays bounded on long tails", () => {
    // A run longer than any key can be is released, but for its last 64 characters, which may
    // still end a key name (MAX_KEY) before a ':' or '='.
    const t = "sk-" + rnd(400, ALNUM);
    expect(secretHoldStart(t)).toBeGreaterThanOrEqual(t.length - 64);
    expect(secretHoldStart(t + " ")).toBe(t.length + 1);
    // A value over the length cap holds nothing as a value; as a (too long) key name, only its
    // last MAX_KEY = 64 characters count, so at most those are held.
    const v = "password=" + rnd(600, ALNUM);
    expect(secretHoldStart(v)).toBeGreaterThanOrEqual(v.length - 64);
    const u = "https://" + rnd(300, ALNUM);
    expect(secretHoldStart(u)).toBe(u.length);
  });
});

// Released characters the redactor (stream.ts) keeps as look-behind and passes, with the held
// text, to both the hold rule and the detectors. The secret rules need one (a run's boundary, the
// backslash of a raw JSON escape); 8 keeps this test stricter than the redactor's 48.
const CONTEXT: i32 = 8;

function spans(f: Array<Finding>, base: i32, from: i32): string {
  let s = "";
  for (let i = 0; i < f.length; i++) {
    if (f[i].start < from) continue;
    s += (f[i].start + base).toString() + "-" + (f[i].end + base).toString() + ":" + (<i32>f[i].kind).toString() + ";";
  }
  return s;
}

/**
 * Feeds text in chunks of `step` characters the way stream.ts does (hold back from
 * secretHoldStart(context + held), keep CONTEXT released characters) and returns every span it
 * redacted, in text coordinates.
 */
function streamed(text: string, step: i32): string {
  let out = "";
  let held = "";
  let heldAt = 0;      // text index of held[0]
  let ctx = "";        // the last released characters
  for (let pos = 0; pos < text.length; pos += step) {
    held += text.substring(pos, pos + step);
    const all = ctx + held;
    let cut = secretHoldStart(all);
    if (cut < ctx.length) cut = ctx.length;
    const f = new Array<Finding>();
    findSecrets(all, ALL_KINDS, f);
    // Like stream.ts: never cut through a finding (a hold point may fall inside a complete one, as
    // for a URL inside a keyword's value); hold from the finding's start instead.
    for (let i = f.length - 1; i >= 0; i--) if (f[i].start >= ctx.length && f[i].start < cut && f[i].end > cut) cut = f[i].start;
    const hold = cut - ctx.length;
    const keep = new Array<Finding>();
    for (let i = 0; i < f.length; i++) if (f[i].start >= ctx.length && f[i].end <= cut) keep.push(f[i]);
    out += spans(keep, heldAt - ctx.length, 0);
    const released = ctx + held.substring(0, hold);
    ctx = released.substring(released.length > CONTEXT ? released.length - CONTEXT : 0);
    held = held.substring(hold);
    heldAt += hold;
  }
  const f = new Array<Finding>();
  findSecrets(ctx + held, ALL_KINDS, f);
  return out + spans(f, heldAt - ctx.length, ctx.length);
}

function whole(text: string): string {
  const f = new Array<Finding>();
  findSecrets(text, ALL_KINDS, f);
  return spans(f, 0, 0);
}

describe("secretHoldStart: streamed in small chunks = scanned whole", () => {
  it("finds exactly the same spans for chunks of 1, 2, 3, 5 and 8 characters", () => {
    const v = "Fk" + rnd(18, ALNUM) + "9";
    const texts: Array<string> = [
      "Keys: " + openaiProject() + ", " + anthropicKey() + " and " + awsId("AKIA") + ".\n",
      "export GH=" + githubClassic("ghp_") + "; curl -u " + stripeKey("sk_live_") + ": " + slackWebhook() + " done",
      "{\"token\":\"" + jwt() + "\",\"key\":\"" + googleKey() + "\",\"bot\":\"" + slackBot() + "\"}",
      "db: postgres://app:Xk29dkLq7@db:5432/app and password=" + v + " and\n" + pem("EC PRIVATE KEY") + "\nok",
      "xsk-" + rnd(48, ALNUM) + " maskAKIA" + rnd(16, "ABCDEFGHJKLMNPQRSTUVWXYZ234567") + " the secret sauce: tomatoes",
      "_" + jwt() + "_ and \\n" + jwt() + "\\n and \\n" + openaiLegacy() + "\\n",
      "aws_access_key_id=" + awsId("ASIA") + "\naws_secret_access_key=" + awsSecret() + "\n-----BEGIN RSA PRIVATE KEY-----\nMIIE" + rnd(80, ALNUM),
    ];
    const steps: Array<i32> = [1, 2, 3, 5, 8];
    for (let t = 0; t < texts.length; t++) {
      const want = whole(texts[t]);
      expect(want.length > 0).toBe(t != 4, "text " + t.toString()); // text 4 holds only lookalikes
      for (let s = 0; s < steps.length; s++) expect(streamed(texts[t], steps[s])).toBe(want, "text " + t.toString() + " step " + steps[s].toString());
    }
  });
});

// Fragments that start, continue or break every rule; fuzzed texts are glued from them.
const PIECES: Array<string> = [
  "sk-", "proj-", "ant-", "api03-", "AKIA", "ghp_", "github_pat_", "sk_live_", "xoxb-", "1234567890-", "AIza",
  "eyJhbGciOiJIUzI1NiJ9", "eyJzdWIiOiIxIn0", ".", "-----BEGIN ", "RSA PRIVATE KEY", "-----", "-----END ",
  "\n", " ", "  ", "password", "api_key", "aws_secret_access_key", "token", "=", ": ", "\"", "'", "\\", "\\n",
  "postgres", "mysql+pymysql", "://", "app", ":", "@", "db.internal", "/", "?", "Bearer ", "https://",
  "hooks.slack.com/services/", "T0FAKE/", "B0FAKE/", "_", "-", "x", "#", ",", ";", "{", "}", "\u00e9", "\uD83D",
];

function fuzzText(pieces: i32): string {
  let s = "";
  for (let i = 0; i < pieces; i++) {
    const r = <i32>(rnd(1, "0123456789").charCodeAt(0) - 48) * 10 + <i32>(rnd(1, "0123456789").charCodeAt(0) - 48);
    if (r < 25) s += rnd(4 + r, ALNUM);                      // key-like bodies of many lengths
    else if (r < 30) s += rnd(40, ALNUM + "+/");
    else s += PIECES[(r * 7 + i) % PIECES.length];
  }
  return s;
}

describe("secretHoldStart: fuzzed streams = scanned whole", () => {
  it("300 glued texts, chunks of 1, 2, 3 and 7 characters", () => {
    reseed(0x5eed1234);
    const steps: Array<i32> = [1, 2, 3, 7];
    let withFindings = 0;
    for (let t = 0; t < 300; t++) {
      const text = fuzzText(24);
      const want = whole(text);
      if (want.length > 0) withFindings++;
      for (let s = 0; s < steps.length; s++) expect(streamed(text, steps[s])).toBe(want, text);
    }
    expect(withFindings).toBeGreaterThan(15); // the generator does produce secrets
  });
});
