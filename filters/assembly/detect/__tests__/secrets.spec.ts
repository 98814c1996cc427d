import { findSecrets } from "../secrets";
import { EntityKind, Finding, kindBit, ALL_KINDS, entityName } from "../finding";
import {
  openaiLegacy, openaiProject, openaiSvc, openaiAdmin, anthropicKey, anthropicAdmin, awsId, githubClassic,
  githubPat, stripeKey, slackBot, slackUser, slackWebhook, googleKey, awsSecret, jwt, pem, pemBody,
  rnd, ALNUM, HEX,
} from "./secrets-fixtures";

function find(text: string): Array<Finding> {
  const out = new Array<Finding>();
  findSecrets(text, ALL_KINDS, out);
  return out;
}

/** "kind:value;" for every finding: one string to compare, with readable failures. */
function show(text: string): string {
  const f = find(text);
  let s = "";
  for (let i = 0; i < f.length; i++) s += entityName(f[i].kind) + ":" + text.substring(f[i].start, f[i].end) + ";";
  return s;
}

function one(kind: EntityKind, value: string): string { return entityName(kind) + ":" + value + ";"; }

/** The value is found, as kind, in each of the usual surroundings. */
function expectFoundEverywhere(kind: EntityKind, value: string): void {
  const e = one(kind, value);
  expect(show(value)).toBe(e);
  expect(show("my key is " + value + " ok")).toBe(e);
  expect(show("{\"content\":\"use " + value + "\"}")).toBe(e);
  expect(show("'" + value + "'")).toBe(e);
  expect(show("`" + value + "`.")).toBe(e);
  expect(show("(" + value + ")\n")).toBe(e);
  expect(show("line one\\n" + value + "\\nline two")).toBe(e);
  expect(show("caf\u00e9 \u{1F600} " + value + " \u4e2d\u6587")).toBe(e);
}

describe("findSecrets: prefixed keys", () => {
  it("OpenAI legacy, project, service-account and admin keys", () => {
    expectFoundEverywhere(EntityKind.OpenAiKey, openaiLegacy());
    expectFoundEverywhere(EntityKind.OpenAiKey, openaiProject());
    expectFoundEverywhere(EntityKind.OpenAiKey, openaiSvc());
    expectFoundEverywhere(EntityKind.OpenAiKey, openaiAdmin());
    // 48 alphanumerics without the marker is the classic shape too.
    expectFoundEverywhere(EntityKind.OpenAiKey, "sk-Fake" + rnd(44, ALNUM));
  });

  it("Anthropic API and admin keys", () => {
    expectFoundEverywhere(EntityKind.AnthropicKey, anthropicKey());
    expectFoundEverywhere(EntityKind.AnthropicKey, anthropicAdmin());
  });

  it("AWS access key ids of each type", () => {
    expectFoundEverywhere(EntityKind.AwsAccessKey, awsId("AKIA"));
    expectFoundEverywhere(EntityKind.AwsAccessKey, awsId("ASIA"));
    expectFoundEverywhere(EntityKind.AwsAccessKey, awsId("ABIA"));
    expectFoundEverywhere(EntityKind.AwsAccessKey, awsId("ACCA"));
  });

  it("GitHub classic tokens and fine-grained PATs", () => {
    expectFoundEverywhere(EntityKind.GithubToken, githubClassic("ghp_"));
    expectFoundEverywhere(EntityKind.GithubToken, githubClassic("gho_"));
    expectFoundEverywhere(EntityKind.GithubToken, githubClassic("ghu_"));
    expectFoundEverywhere(EntityKind.GithubToken, githubClassic("ghs_"));
    expectFoundEverywhere(EntityKind.GithubToken, githubClassic("ghr_"));
    expectFoundEverywhere(EntityKind.GithubToken, githubPat());
  });

  it("Stripe secret and restricted keys", () => {
    expectFoundEverywhere(EntityKind.StripeKey, stripeKey("sk_live_"));
    expectFoundEverywhere(EntityKind.StripeKey, stripeKey("sk_test_"));
    expectFoundEverywhere(EntityKind.StripeKey, stripeKey("rk_live_"));
  });

  it("Slack tokens and webhooks", () => {
    expectFoundEverywhere(EntityKind.SlackToken, slackBot());
    expectFoundEverywhere(EntityKind.SlackToken, slackUser());
    expectFoundEverywhere(EntityKind.SlackToken, slackWebhook());
    expectFoundEverywhere(EntityKind.SlackToken, "xapp-1-A0FAKE" + rnd(6, ALNUM).toUpperCase() + "-" + rnd(13, "0123456789") + "-" + rnd(64, HEX));
  });

  it("Google API keys", () => {
    expectFoundEverywhere(EntityKind.GoogleApiKey, googleKey());
  });

  it("JWTs", () => {
    expectFoundEverywhere(EntityKind.Jwt, jwt());
    const t = jwt();
    expect(show("Authorization: Bearer " + t)).toBe(one(EntityKind.Jwt, t));
  });
});

describe("findSecrets: prefixed-key lookalikes", () => {
  it("placeholders and elided keys", () => {
    expect(show("export OPENAI_API_KEY=sk-... then run it")).toBe("");
    expect(show("sk-proj-YOUR_API_KEY_HERE sk-ant-api03-xxxxxxxxxxxxxxxxxxxx")).toBe("");
    expect(show("sk-" + "x".repeat(48))).toBe("");
    expect(show("sk-proj-" + "A".repeat(120))).toBe("");
    expect(show("AKIAIOSFODNN7EXAMPLE")).toBe(""); // AWS's documentation key
    expect(show("AKIA1234567890ABCDEF ghp_" + "0".repeat(36))).toBe("");
    expect(show("sk_test_1234567890abcdefghijklmnop sk_live_YOUR_SECRET_KEY")).toBe("");
    expect(show("xoxb-your-bot-token xoxb-000000000000-000000000000-xxxxxxxxxxxxxxxxxxxxxxxx")).toBe("");
    expect(show("https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX")).toBe("");
    expect(show("AIzaSyYOUR_API_KEY_GOES_HERE_0000000000")).toBe("");
  });

  it("wrong lengths and alphabets", () => {
    expect(show("sk-" + rnd(47, ALNUM))).toBe("");                 // one short, no marker
    expect(show("sk-" + rnd(49, ALNUM))).toBe("");                 // one long, no marker
    expect(show("AKIA" + rnd(15, "ABCDEFGHJKLMNPQRSTUVWXYZ234567"))).toBe("");
    expect(show("AKIA" + rnd(17, "ABCDEFGHJKLMNPQRSTUVWXYZ234567"))).toBe("");
    expect(show("AKIA" + "Fake" + rnd(12, ALNUM).toLowerCase())).toBe(""); // lower case body
    expect(show("ghp_" + rnd(35, ALNUM))).toBe("");
    expect(show("AIza" + rnd(34, ALNUM) + " AIza" + rnd(36, ALNUM))).toBe("");
    expect(show("xoxb-abc" + rnd(30, ALNUM))).toBe("");            // Slack bodies start with digits
    expect(show("sk-ant-api03-" + rnd(40, ALNUM))).toBe("");        // too short for Anthropic
  });

  it("keys glued inside a longer word are not keys", () => {
    expect(show("mask-" + rnd(48, ALNUM))).toBe("");
    expect(show("xAKIA" + rnd(16, "ABCDEFGHJKLMNPQRSTUVWXYZ234567"))).toBe("");
    expect(show("prefixghp_" + rnd(36, ALNUM))).toBe("");
  });

  it("UUIDs, git SHAs, hashes and base64 images", () => {
    expect(show("request 123e4567-e89b-12d3-a456-426614174000 failed")).toBe("");
    expect(show("fixed in commit " + rnd(40, HEX) + " and " + rnd(7, HEX))).toBe("");
    expect(show("sha256:" + rnd(64, HEX))).toBe("");
    expect(show("<img src=\"data:image/png;base64," + rnd(4000, ALNUM + "+/") + "==\">")).toBe("");
  });

  it("dotted strings that are not JWTs", () => {
    expect(show("eyJhbGciOi.notjwt")).toBe("");
    expect(show("version 1.2.3 and a.b.c")).toBe("");
    // header decodes to {"foo":... : not a JOSE header
    expect(show("eyJmb28iOiJiYXIifQ." + "eyJzdWIiOiIxIn0." + rnd(43, ALNUM))).toBe("");
    // signature too short
    expect(show("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc")).toBe("");
  });
});
