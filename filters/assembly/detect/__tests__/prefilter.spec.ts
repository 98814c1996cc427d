// The prefilter never drops a detector family (PII, secrets) from a string in which that family
// finds something: every entity kind and every secret rule, alone, at the start and end of a
// string, after JSON escapes, written with \u escapes, in non-ASCII text; then random texts built
// from the same pieces. And it does drop them from ordinary prose, which is what it is for.
import { kindsThatMayFire, MIN_TOKEN_RUN } from "../prefilter";
import { ALL_KINDS, Finding } from "../finding";
import { findPii, PII_KINDS } from "../pii";
import { findSecrets } from "../secrets";
import { spans } from "./spans";
import {
  openaiLegacy, openaiProject, openaiSvc, openaiAdmin, anthropicKey, anthropicAdmin, awsId, githubClassic,
  githubPat, stripeKey, slackBot, slackUser, slackWebhook, googleKey, awsSecret, jwt, pem, reseed, rnd, ALNUM, HEX,
} from "./secrets-fixtures";
import { ByteSink } from "../../redact/byte-sink";
import { writeJsonString } from "../../redact/json-text";

const sink = new ByteSink();
const SECRETS: u32 = ALL_KINDS & ~PII_KINDS;
const found = new Array<Finding>();
const UPPER: string = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LETTERS: string = UPPER + "abcdefghijklmnopqrstuvwxyz";

/** The prefilter on `text` as a JSON body holds it (escaped, UTF-8; quotes excluded). */
function kindsJson(text: string): u32 {
  sink.reset();
  writeJsonString(sink, text);
  return kindsThatMayFire(sink.ptr + 1, sink.len - 2);
}

/** The prefilter on `raw`, taken as the string's content exactly as a body would hold it. */
function kindsRaw(raw: string): u32 {
  const b = String.UTF8.encode(raw);
  return kindsThatMayFire(changetype<usize>(b), b.byteLength);
}

function mayJson(text: string): bool { return kindsJson(text) != 0; }
function mayRaw(raw: string): bool { return kindsRaw(raw) != 0; }

/** Each family that finds something in `text` is kept for it. */
function expectFamiliesKept(text: string): void {
  const kinds = kindsJson(text);
  findPii(text, ALL_KINDS, found);
  if (found.length > 0) expect(kinds & PII_KINDS).toBe(PII_KINDS, "pii: " + text);
  found.length = 0;
  findSecrets(text, ALL_KINDS, found);
  if (found.length > 0) expect(kinds & SECRETS).toBe(SECRETS, "secrets: " + text);
  found.length = 0;
}

function values(): Array<string> {
  reseed(7);
  return [
    // PII, one of each kind and shape
    "jane.doe@example.com", "andré.lefèvre@exemple.fr", "+44 20 7946 0958", "(415) 555-0100", "06 12 34 56 78",
    "4111 1111 1111 1111", "378282246310005", "123-45-6789", "SSN 123456789", "DE89 3704 0044 0532 0130 00",
    "GB82WEST12345698765432", "192.168.1.10", "10.0.0.0/8", "2001:db8::8a2e:370:7334", "fe80::1ff:fe23:4567:890a",
    "::ffff:192.0.2.128",
    // secrets, one of each rule
    openaiLegacy(), openaiProject(), openaiSvc(), openaiAdmin(), anthropicKey(), anthropicAdmin(),
    awsId("AKIA"), awsId("ASIA"), awsId("ABIA"), awsId("ACCA"), githubClassic("ghp_"), githubClassic("gho_"),
    githubClassic("ghu_"), githubClassic("ghs_"), githubClassic("ghr_"), githubPat(), stripeKey("sk_live_"),
    stripeKey("rk_test_"), slackBot(), slackUser(), slackWebhook(), googleKey(), jwt(), pem("RSA PRIVATE KEY"),
    pem("OPENSSH PRIVATE KEY"), "aws_secret_access_key=" + awsSecret(), "password=Xk9#mP2$vL7qTz",
    "api_key: \"" + rnd(20, HEX) + "\"", "Authorization: Bearer " + rnd(24, ALNUM),
    "postgres://app:S3cr3tPa55w0rd!x@db.internal:5432/app", "redis://:hunter2Xk9pQ7zL@cache:6379",
    // without a digit, an '@' or a ':' (found by their run of token characters alone)
    "AKIA" + rnd(16, UPPER), "ghp_" + rnd(36, LETTERS), "sk-ant-api03-" + rnd(93, LETTERS), "password=Xk#mP$vL!qTzW",
    "pwd: Xk9#mP2$vL7q!",
  ];
}

/** Every surrounding a value is tested in. */
function contexts(v: string): Array<string> {
  return [v, v + " and more", "text before " + v, "\n" + v + "\n", "\t\"" + v + "\"\\", "\u65e5\u672c\u8a9e " + v + " \u3002",
    "\u00e9" + v + "\u00e9", "\u{1F600}" + v, "(" + v + ").", "x\n" + v + "\ty"];
}

describe("prefilter", () => {
  it("keeps every string in which a detector finds an entity or a secret", () => {
    const vs = values();
    for (let i = 0; i < vs.length; i++) {
      const cs = contexts(vs[i]);
      for (let k = 0; k < cs.length; k++) {
        // The case must be one a detector fires on, or it shows nothing about the prefilter.
        if (k == 0) expect(spans(cs[k])).not.toBe("", vs[i]);
        expectFamiliesKept(cs[k]);
      }
    }
  });

  it("keeps both families for any \\u escape: it may stand for a trigger or a run's letter", () => {
    expect(kindsRaw("mail jane.doe\\u0040example.com")).toBe(ALL_KINDS);
    expect(kindsRaw("sk-ant-api03-\\u0041bcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")).toBe(ALL_KINDS);
    expect(kindsRaw("caf\\uabcd tea")).toBe(ALL_KINDS);
    expect(kindsRaw("a \\\\u is a backslash and a u")).toBe(ALL_KINDS); // conservative: read as \u
  });

  it("keeps only the family whose trigger it saw", () => {
    expect(kindsJson("the 12 reports of 2024")).toBe(PII_KINDS);
    expect(kindsJson("write to me at home@")).toBe(PII_KINDS);
    expect(kindsJson("set x = y")).toBe(SECRETS);
    expect(kindsJson("and/or")).toBe(SECRETS);
    expect(kindsJson("wait -- what")).toBe(SECRETS);
    expect(kindsJson("abcdefghijklmnopqrstuvwxyz")).toBe(SECRETS);
    expect(kindsJson("Note: this")).toBe(ALL_KINDS);
    expect(kindsJson("12 reports, and/or more")).toBe(ALL_KINDS);
    // After a digit has kept PII, the secret triggers are still looked for, in any eight bytes.
    const triggers = ["=", "/", "--", ":", "abcdefghijklmnopqrstuvwxyz", "\\u0041"];
    for (let t = 0; t < triggers.length; t++) {
      expect(kindsJson("in 2024 we wrote " + triggers[t] + " here")).toBe(ALL_KINDS, triggers[t]);
      expect(kindsJson("in 2024, and then a lot later in the text, we wrote" + triggers[t])).toBe(ALL_KINDS, triggers[t]);
    }
  });

  it("keeps a run of 16 token characters, whatever splits it into bytes and escapes", () => {
    let run = "";
    for (let i = 0; i < MIN_TOKEN_RUN; i++) run += i % 2 == 0 ? "a" : "_";
    for (let pad = 0; pad < 9; pad++) {
      // Every alignment of the run against the eight-byte blocks, after ASCII or non-ASCII text.
      const p = (pad % 2 == 0 ? " " : "\u00e9 ") + " ".repeat(pad);
      expect(mayJson(p + run)).toBe(true, p + run);
      expect(mayJson(p + run + " end")).toBe(true, p + run);
      expect(mayJson(p + run.substring(1) + " end")).toBe(false, p + run.substring(1));
    }
    // An escape's letter counts as part of the run: never shorter than the decoded run.
    expect(mayRaw("\\n" + run.substring(1))).toBe(true);
    expect(mayRaw("\\n" + run.substring(2))).toBe(false);
  });

  it("skips ordinary prose, non-ASCII text and escapes that stand for none of the triggers", () => {
    expect(mayJson("You are a helpful analyst.")).toBe(false);
    expect(mayJson("Please summarise the quarterly report for the board.\nKeep the tone neutral, and \"concise\".")).toBe(false);
    expect(mayJson("R\u00e9sum\u00e9 du rapport trimestriel \u2014 \u65e5\u672c\u8a9e\u306e\u6587\u66f8\u3002")).toBe(false);
    expect(mayJson("a well-known, long-standing tab\tseparated back\\slash")).toBe(false);
    expect(mayJson("")).toBe(false);
  });

  it("keeps each trigger on its own, at the start, in the middle and at the end", () => {
    const triggers = ["@", "0", "9", ":", "=", "/", "--"];
    const kept: Array<u32> = [PII_KINDS, PII_KINDS, PII_KINDS, ALL_KINDS, SECRETS, SECRETS, SECRETS];
    for (let t = 0; t < triggers.length; t++) {
      const tr = triggers[t];
      expect(kindsJson(tr)).toBe(kept[t], tr);
      expect(kindsJson(tr + " the rest of a sentence")).toBe(kept[t], tr);
      expect(kindsJson("a sentence with " + tr + " inside")).toBe(kept[t], tr);
      expect(kindsJson("a longer sentence that ends" + tr)).toBe(kept[t], tr);
    }
    expect(kindsRaw("ends with a slash \\/")).toBe(SECRETS);
  });

  it("never drops a family that finds something, on random texts of the same pieces", () => {
    const vs = values();
    const fill = ["the ", "report", " ", "\n", "\t", "-", "_", "\u00e9", "\u65e5", ". ", "Summarise", "aaaaaaaaaaaaaaa", "\"", "\\"];
    let seed: u32 = 12345;
    for (let n = 0; n < 3000; n++) {
      let text = "";
      const parts = 1 + <i32>(seed % 7);
      for (let p = 0; p < parts; p++) {
        seed = seed * 1103515245 + 12345;
        const r = <i32>((seed >> 8) % 100);
        text += r < 30 ? vs[<i32>((seed >> 16) % <u32>vs.length)] : fill[r % fill.length];
      }
      expectFamiliesKept(text);
    }
  });
});
