import { findSecrets } from "../secrets";
import { EntityKind, Finding, ALL_KINDS, kindBit, entityName } from "../finding";
import { pem, pemBody, awsSecret, openaiProject, awsId, githubClassic, jwt, rnd, ALNUM, HEX } from "./secrets-fixtures";

function show(text: string, kinds: u32 = ALL_KINDS): string {
  const f = new Array<Finding>();
  findSecrets(text, kinds, f);
  let s = "";
  for (let i = 0; i < f.length; i++) s += entityName(f[i].kind) + ":" + text.substring(f[i].start, f[i].end) + ";";
  return s;
}

function one(kind: EntityKind, value: string): string { return entityName(kind) + ":" + value + ";"; }

describe("findSecrets: PEM private keys", () => {
  it("finds whole blocks of each label", () => {
    const labels = ["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "PGP PRIVATE KEY BLOCK"];
    for (let i = 0; i < labels.length; i++) {
      const block = pem(labels[i]);
      expect(show("here is my key:\n" + block + "\nthanks")).toBe(one(EntityKind.PrivateKey, block));
    }
  });

  it("finds blocks inside raw JSON with escaped newlines", () => {
    const block = "-----BEGIN PRIVATE KEY-----\\nMIIEFake" + rnd(60, ALNUM) + "\\n" + rnd(40, ALNUM) + "\\n-----END PRIVATE KEY-----";
    expect(show("{\"key\":\"" + block + "\"}")).toBe(one(EntityKind.PrivateKey, block));
  });

  it("a BEGIN without its END runs to the end of the text", () => {
    const start = "-----BEGIN RSA PRIVATE KEY-----\n" + pemBody(2);
    expect(show("oops " + start)).toBe(one(EntityKind.PrivateKey, start));
  });

  it("END must match the BEGIN label", () => {
    const text = "-----BEGIN EC PRIVATE KEY-----\n" + pemBody(2) + "-----END RSA PRIVATE KEY-----\nmore";
    expect(show(text)).toBe(one(EntityKind.PrivateKey, text));
  });

  it("two blocks are two findings; other keys inside a block are not reported separately", () => {
    const a = pem("PRIVATE KEY");
    const b = "-----BEGIN RSA PRIVATE KEY-----\n" + awsId("AKIA") + rnd(30, ALNUM) + "\n" + pemBody(1) + "-----END RSA PRIVATE KEY-----";
    expect(show(a + "\n\n" + b)).toBe(one(EntityKind.PrivateKey, a) + one(EntityKind.PrivateKey, b));
  });

  it("public keys, certificates and elided blocks are not private keys", () => {
    expect(show("-----BEGIN PUBLIC KEY-----\n" + pemBody(3) + "-----END PUBLIC KEY-----")).toBe("");
    expect(show("-----BEGIN CERTIFICATE-----\n" + pemBody(3) + "-----END CERTIFICATE-----")).toBe("");
    expect(show("-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----")).toBe("");
    expect(show("files start with -----BEGIN OPENSSH PRIVATE KEY----- and end with the END line")).toBe("");
  });
});

describe("findSecrets: connection-string passwords", () => {
  it("only the password is the finding, for each common scheme", () => {
    const schemes = ["postgres", "postgresql", "mysql", "mongodb", "mongodb+srv", "redis", "rediss", "amqp", "mssql", "https"];
    for (let i = 0; i < schemes.length; i++) {
      const pw = "Fk9" + rnd(9, ALNUM) + "!";
      const text = "DATABASE_URL=" + schemes[i] + "://app_user:" + pw + "@db.internal:5432/app?sslmode=require";
      expect(show(text)).toBe(one(EntityKind.ConnectionPassword, pw));
    }
  });

  it("empty user, unencoded @ in the password, JDBC prefix, quotes", () => {
    expect(show("redis://:s3cretRedis77@cache:6379/0")).toBe(one(EntityKind.ConnectionPassword, "s3cretRedis77"));
    expect(show("postgres://u:p@ss#w0rd@h/db")).toBe(one(EntityKind.ConnectionPassword, "p@ss#w0rd"));
    expect(show("jdbc:mysql://root:Tr0ub4dor@localhost/x")).toBe(one(EntityKind.ConnectionPassword, "Tr0ub4dor"));
    expect(show("\"mongodb+srv://svc:Qx7pLm2v@cluster0.example.net\"")).toBe(one(EntityKind.ConnectionPassword, "Qx7pLm2v"));
    // even short or simple passwords in a URL are credentials
    expect(show("amqp://guest:hunter2@mq/")).toBe(one(EntityKind.ConnectionPassword, "hunter2"));
  });

  it("SQLAlchemy driver schemes (scheme+driver://)", () => {
    expect(show("postgresql+psycopg2://etl:Fk29dkLq%40x7@dw:5432/dw")).toBe(one(EntityKind.ConnectionPassword, "Fk29dkLq%40x7"));
    expect(show("mysql+pymysql://r:Qx7pLm2v9@10.1.2.3/s")).toBe(one(EntityKind.ConnectionPassword, "Qx7pLm2v9"));
    expect(show("foo+bar://r:Qx7pLm2v9@h")).toBe(""); // the part before + must be a known scheme
  });

  it("a known key format in the password slot keeps its own kind", () => {
    const t = githubClassic("ghs_");
    expect(show("https://x-access-token:" + t + "@github.com/acme/app.git")).toBe(one(EntityKind.GithubToken, t));
  });

  it("placeholders, templates and URLs without passwords", () => {
    expect(show("postgres://user:password@localhost:5432/db")).toBe("");
    expect(show("mysql://root:<password>@host/db postgres://u:${DB_PASSWORD}@h/d redis://:****@h")).toBe("");
    expect(show("mongodb://user:pass@host mongodb://admin:YOUR_PASSWORD@host mongodb://u:{{pw}}@h")).toBe("");
    expect(show("see https://example.com:8443/path@v2 and ssh://git@github.com/org/repo and https://user@host/")).toBe("");
    expect(show("foo://user:Xk29dkLq@host")).toBe(""); // unknown scheme
  });
});

describe("findSecrets: keyword + entropy rule", () => {
  it("finds random-looking values after secret keywords, in every syntax", () => {
    const v = "Fk" + rnd(18, ALNUM) + "9";
    const g = one(EntityKind.GenericSecret, v);
    expect(show("password=" + v)).toBe(g);
    expect(show("DB_PASSWORD = '" + v + "'")).toBe(g);
    expect(show("{\"api_key\": \"" + v + "\", \"model\": \"gpt\"}")).toBe(g);
    expect(show("{\\\"client_secret\\\":\\\"" + v + "\\\"}")).toBe(g);
    expect(show("secret: " + v + "\nnext: 1")).toBe(g);
    expect(show("x-api-key: " + v)).toBe(g);
    expect(show("https://api.example.com/v1?apikey=" + v + "&page=2")).toBe(g);
    expect(show("authToken := \"" + v + "\"")).toBe(g);
    expect(show("'access_key' => '" + v + "',")).toBe(g);
    expect(show("Authorization: Bearer " + v)).toBe(g);
    expect(show("--passwd=" + v + " --user bob")).toBe(g);
    expect(show("pwd:" + v + ";")).toBe(g);
    // hex tokens and symbol-rich passwords
    const h = rnd(40, HEX);
    expect(show("token: " + h)).toBe(one(EntityKind.GenericSecret, h));
    expect(show("password: \"Summer2024!x\"")).toBe(one(EntityKind.GenericSecret, "Summer2024!x"));
  });

  it("AWS secret access keys next to their keyword are aws_access_key", () => {
    const s = awsSecret();
    expect(show("aws_secret_access_key = " + s)).toBe(one(EntityKind.AwsAccessKey, s));
    expect(show("AWS_SECRET_ACCESS_KEY=" + s)).toBe(one(EntityKind.AwsAccessKey, s));
    expect(show("{\"SecretAccessKey\": \"" + s + "\"}")).toBe(one(EntityKind.AwsAccessKey, s));
    // Terraform and S3-compatible stores name it secret_key
    expect(show("  secret_key = \"" + s + "\"")).toBe(one(EntityKind.AwsAccessKey, s));
    // 40 characters without upper, lower and digits is not an AWS secret (hex digests)
    const h = rnd(40, HEX);
    expect(show("aws_secret_access_key = " + h)).toBe(one(EntityKind.GenericSecret, h));
    const id = awsId("AKIA");
    expect(show("aws_access_key_id=" + id + "\naws_secret_access_key=" + s)).toBe(one(EntityKind.AwsAccessKey, id) + one(EntityKind.AwsAccessKey, s));
  });

  it("a specific rule wins over the generic one for the same value", () => {
    const k = openaiProject();
    expect(show("OPENAI_API_KEY=" + k)).toBe(one(EntityKind.OpenAiKey, k));
    const t = jwt();
    expect(show("token: " + t)).toBe(one(EntityKind.Jwt, t));
  });

  it("low-entropy values, placeholders, references and prose stay", () => {
    expect(show("password=password123")).toBe("");       // documented judgment call
    expect(show("password: changeme1 secret=\"secret!\"")).toBe("");
    expect(show("api_key=YOUR_API_KEY token=<token> secret: ${SECRET} pwd=xxxxxxxxxx")).toBe("");
    expect(show("password: aaaa1111 token=abcd1234efgh")).toBe("");
    expect(show("api_key = process.env.OPENAI_API_KEY; token: os.environ.get")).toBe("");
    expect(show("The password policy requires 12 characters; secret: the key is rotation.")).toBe("");
    expect(show("Password: correcthorsebatterystaple")).toBe(""); // all letters: missed by design
    expect(show("max_tokens: 1024, token_count=55123412, tokens: 8192")).toBe("");
    expect(show("next_page_token=" + rnd(24, ALNUM) + "9")).toBe("");
    expect(show("password_policy: Strict-2024 author: J.R.R.Tolkien1")).toBe("");
    expect(show("pwd=Ab1")).toBe(""); // too short
    expect(show("token=" + rnd(600, ALNUM))).toBe(""); // a blob, not a credential
    expect(show("user_id: 123e4567-e89b-12d3-a456-426614174000")).toBe("");
  });
});

describe("findSecrets: kinds", () => {
  it("reports only the enabled kinds; a disabled specific kind does not fall back to generic", () => {
    const k = openaiProject();
    const text = "api_key=" + k + " and AKIA" + "FAKE" + rnd(12, "ABCDEFGHJKLMNPQRSTUVWXYZ234567");
    expect(show(text, kindBit(EntityKind.GenericSecret))).toBe("");
    expect(show(text, kindBit(EntityKind.OpenAiKey))).toBe(one(EntityKind.OpenAiKey, k));
    expect(show(text, 0)).toBe("");
    // PII bits only: nothing
    expect(show(text, kindBit(EntityKind.Email) | kindBit(EntityKind.Phone))).toBe("");
  });

  it("appends to what the array already holds", () => {
    const out = new Array<Finding>();
    out.push(new Finding(EntityKind.Email, 0, 1));
    findSecrets("x " + jwt(), ALL_KINDS, out);
    expect(out.length).toBe(2);
    expect(out[1].kind).toBe(EntityKind.Jwt);
    expect(out[1].start).toBe(2);
  });
});
