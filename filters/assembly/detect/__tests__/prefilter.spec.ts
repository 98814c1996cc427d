// The prefilter never skips a string in which a detector finds something: every entity kind and
// every secret rule, alone, at the start and end of a string, after JSON escapes, written with a
// \u escape, in non-ASCII text; then random texts built from the same pieces. And it does skip
// ordinary prose, which is what it is for.
import { mayHoldEntity, MIN_TOKEN_RUN } from "../prefilter";
import { spans } from "./spans";
import {
  openaiLegacy, openaiProject, openaiSvc, openaiAdmin, anthropicKey, anthropicAdmin, awsId, githubClassic,
  githubPat, stripeKey, slackBot, slackUser, slackWebhook, googleKey, awsSecret, jwt, pem, reseed, rnd, ALNUM, HEX,
} from "./secrets-fixtures";
import { ByteSink } from "../../redact/byte-sink";
import { writeJsonString } from "../../redact/json-text";

const sink = new ByteSink();
const UPPER: string = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LETTERS: string = UPPER + "abcdefghijklmnopqrstuvwxyz";

/** The prefilter on `text` as a JSON body holds it (escaped, UTF-8; quotes excluded). */
function mayJson(text: string): bool {
  sink.reset();
  writeJsonString(sink, text);
  return mayHoldEntity(sink.ptr + 1, sink.len - 2);
}

/** The prefilter on `raw`, taken as the string's content exactly as a body would hold it. */
function mayRaw(raw: string): bool {
  const b = String.UTF8.encode(raw);
  return mayHoldEntity(changetype<usize>(b), b.byteLength);
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
        const found = spans(cs[k]);
        // The case must be one a detector fires on, or it shows nothing about the prefilter.
        if (k == 0) expect(found).not.toBe("", vs[i]);
        if (found != "") expect(mayJson(cs[k])).toBe(true, cs[k]);
      }
    }
  });

  it("keeps strings whose entity is written with \\u escapes (an ASCII character's has digits)", () => {
    expect(mayRaw("mail jane.doe\\u0040example.com")).toBe(true);
    expect(mayRaw("\\u0034111 1111 1111 1111")).toBe(true);
    expect(mayRaw("\\u0065yJ...")).toBe(true);
    // A \u escape of a non-ASCII character stands for one no detector reads; its letters still count in a run.
    expect(mayRaw("just \\u00e9 text")).toBe(true); // the 00 of \u00XX
    expect(mayRaw("caf\\uabcd tea")).toBe(false);
    expect(mayRaw("\\uabcdefghijklmnop")).toBe(true);
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
    for (let t = 0; t < triggers.length; t++) {
      const tr = triggers[t];
      expect(mayJson(tr)).toBe(true, tr);
      expect(mayJson(tr + " the rest of a sentence")).toBe(true, tr);
      expect(mayJson("a sentence with " + tr + " inside")).toBe(true, tr);
      expect(mayJson("a longer sentence that ends" + tr)).toBe(true, tr);
    }
    expect(mayRaw("ends with a slash \\/")).toBe(true);
  });

  it("never says no where a detector finds something, on random texts of the same pieces", () => {
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
      if (spans(text) != "") expect(mayJson(text)).toBe(true, text);
    }
  });
});
