import { spans, expectWhole, expectNone } from "./spans";
import { luhnValid, knownIssuer } from "../card";
import { ibanMod97 } from "../iban";
import { ssnValid } from "../ssn";

describe("email", () => {
  it("finds addresses with dots, plus tags, subdomains and in punctuation", () => {
    expectWhole("email", ["john.doe@example.com", "first+tag@mail.example.co.uk", "x_y-z%1@sub.domain.io", "A.B@EXAMPLE.ORG"]);
    expect(spans("Contact: <jane@acme.fr>, (bob@corp.de).")).toBe("email:jane@acme.fr|email:bob@corp.de");
    expect(spans("mailto:a.b@c-d.com;")).toBe("email:a.b@c-d.com");
    expect(spans("\u6211\u7684\u90AE\u7BB1\u662Fli.wei@example.cn\u3002")).toBe("email:li.wei@example.cn");
    expect(spans("...end.user@example.com.")).toBe("email:end.user@example.com");
  });
  it("leaves handles, decorators, hosts without TLD and broken addresses", () => {
    expectNone(["@username", "@Override", "user@localhost", "a@b.c", "user@@example.com", "user@-bad.com",
      "x@y.123", "a..b@example.com", "git@github", "npm i @types/node", "user@example.c0m"]);
  });
});

describe("phone", () => {
  it("finds international formats", () => {
    expectWhole("phone", ["+33 6 12 34 56 78", "+33612345678", "+44 20 7946 0958", "+44 (0)20 7946 0958", "+49 30 12345678",
      "+49 (0)30 1234 5678", "+1 (415) 555-0100", "+1-415-555-0100", "+81 3-1234-5678", "+86 138 0013 8000",
      "+7 495 123-45-67", "+34 612 34 56 78", "+39 06 1234 5678", "0044 20 7946 0958", "+33.6.12.34.56.78"]);
  });
  it("finds national formats (US, FR, UK, DE)", () => {
    expectWhole("phone", ["(415) 555-0100", "415-555-0100", "415.555.0100", "415 555 0100", "1-800-555-0199",
      "06 12 34 56 78", "06.12.34.56.78", "06-12-34-56-78", "020 7946 0958", "07911 123456", "030 12345678",
      "0171 1234567", "089/1234567", "06\u00a012\u00a034\u00a056\u00a078"]);
    expect(spans("Call me at 415-555-0100, or tomorrow.")).toBe("phone:415-555-0100");
    expect(spans("Tel.: 06 12 34 56 78\n")).toBe("phone:06 12 34 56 78");
  });
  it("leaves dates, versions, times, ids, amounts and plain long numbers", () => {
    expectNone(["2024-01-15", "15/01/2024", "01/15/2024", "15.01.2024", "01.01.2024 12", "2024-01-15 10", "1.2.3",
      "v1.2.3", "10.20.30.40.50", "12:30:45", "0612345678", "4155550100", "123456789012", "ORD-2024-001234",
      "order 1234-5678-9012", "123-456-789", "1 2 3 4 5 6 7 8 9 10", "$1,234,567.89", "3.14159265358",
      "ISBN 978-3-16-148410-0", "id 550e8400-e29b-41d4-a716-446655440000", "+1", "(555)", "+12 34",
      "415-155-0100", "2023-2024", "tel:+33 6 12 34 56 78 99 88 77 66 55"]);
  });
});

describe("card", () => {
  it("finds Luhn-valid numbers with a known issuer prefix", () => {
    expectWhole("card", ["4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "5500 0000 0000 0004",
      "2221 0000 0000 0009", "3782 822463 10005", "378282246310005", "6011 1111 1111 1117", "3530 1113 3330 0000",
      "3056 930902 5904", "6200 0000 0000 0005", "4222222222222"]);
    expect(spans("pay with 4012888888881881.")).toBe("card:4012888888881881");
  });
  it("leaves failed Luhn, unknown issuers, wrong lengths and mixed separators", () => {
    expectNone(["4111 1111 1111 1112", "1234 5678 9012 3456", "9999 9999 9999 9995", "4111 1111 1111 111",
      "4111-1111 1111-1111", "41 11 11 11 11 11 11 11", "4111111111111111111111", "x4111111111111111", "4111111111111111a"]);
  });
  it("validators", () => {
    expect(luhnValid("79927398713")).toBe(true);
    expect(luhnValid("79927398710")).toBe(false);
    expect(knownIssuer("378282246310005")).toBe(true);
    expect(knownIssuer("3782822463100050")).toBe(false); // Amex is 15 digits
  });
});

describe("ssn", () => {
  it("finds ddd-dd-dddd outside the invalid ranges", () => {
    expectWhole("ssn", ["123-45-6789", "078-05-1120", "665-12-3456", "899-99-9999", "123 45 6789"]);
    expect(spans("SSN: 219-09-9999.")).toBe("ssn:219-09-9999");
  });
  it("finds nine solid digits only right after an SSN keyword", () => {
    expect(spans("SSN: 123456789")).toBe("ssn:123456789");
    expect(spans("Social Security number (no dashes) 536228726.")).toBe("ssn:536228726");
    expect(spans("my ssn is 078051120")).toBe("ssn:078051120");
  });
  it("leaves invalid areas/groups/serials, other shapes and solid digits", () => {
    expectNone(["000-12-3456", "666-12-3456", "900-12-3456", "999-12-3456", "123-00-4567", "123-45-0000",
      "123456789", "123-45-67890", "1234-56-789", "123-45 6789", "A123-45-6789", "SSN: 666228726", "ssn 1234567890",
      "order 123456789 (ssn on file)", "SSNs are not shown here, but the order number ends in 123456789", "lessn 123456789"]);
    expect(ssnValid(665, 1, 1)).toBe(true);
    expect(ssnValid(666, 1, 1)).toBe(false);
  });
});

describe("iban", () => {
  it("finds mod-97-valid IBANs of the right country length, solid or grouped", () => {
    expectWhole("iban", ["DE89370400440532013000", "DE89 3704 0044 0532 0130 00", "GB29 NWBK 6016 1331 9268 19",
      "FR14 2004 1010 0505 0001 3M02 606", "NL91ABNA0417164300", "BE68539007547034", "CH9300762011623852957",
      "ES9121000418450200051332", "IT60X0542811101000000123456", "NO9386011117947", "de89370400440532013000"]);
    expect(spans("IBAN: GB29NWBK60161331926819, BIC NWBKGB2L")).toBe("iban:GB29NWBK60161331926819");
  });
  it("leaves failed mod-97, wrong lengths, unknown countries and glued text", () => {
    expectNone(["DE89370400440532013001", "DE8937040044053201300", "DE893704004405320130000", "XX89370400440532013000",
      "DE89 3704 0044 0532 0130 0", "DE89  3704 0044 0532 0130 00", "ADE89370400440532013000", "Deutsche Bank"]);
    expect(ibanMod97("GB82WEST12345698765432")).toBe(1);
    expect(ibanMod97("GB82WEST12345698765431") == 1).toBe(false);
  });
});

describe("ipv4", () => {
  it("finds dotted quads 0-255 with ports, CIDR and punctuation around", () => {
    expectWhole("ipv4", ["10.0.0.1", "192.168.1.254", "255.255.255.255", "0.0.0.0", "8.8.8.8"]);
    expect(spans("connect to 172.16.0.10:8080 or 10.0.0.0/8.")).toBe("ipv4:172.16.0.10|ipv4:10.0.0.0");
  });
  it("leaves versions, out-of-range octets, leading zeros and longer dotted numbers", () => {
    expectNone(["1.2.3", "1.2.3.4.5", "256.1.1.1", "10.0.0.300", "192.168.01.1", "v1.2.3.4", "1.2.3.4a", "2.5.4.3.2.1"]);
  });
});

describe("ipv6", () => {
  it("finds full, compressed and IPv4-mapped forms", () => {
    expectWhole("ipv6", ["2001:0db8:85a3:0000:0000:8a2e:0370:7334", "2001:db8::1", "fe80::1ff:fe23:4567:890a",
      "::ffff:192.0.2.128", "2001:db8::", "FE80::1", "1:2:3:4:5:6:7:8"]);
    expect(spans("listen on [2001:db8::8a2e:370:7334]:443.")).toBe("ipv6:2001:db8::8a2e:370:7334");
    expect(spans("route 2001:db8::/32 via fe80::1.")).toBe("ipv6:2001:db8::|ipv6:fe80::1");
  });
  it("leaves times, MAC addresses, C++ scopes, hashes and malformed addresses", () => {
    expectNone(["12:30:45", "12:30", "00:1A:2B:3C:4D:5E", "std::vector", "Foo::bar", "::", "::1", "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9", "2001:db8::1::2", "12345::1", "deadbeefcafebabe", "g001:db8::1"]);
  });
  // Addresses are read from the runs around the colons findPii lists, not from a pass of their own.
  it("reads each run around colons once, from its start, wherever it sits", () => {
    expect(spans("2001:db8::1")).toBe("ipv6:2001:db8::1");
    expect(spans("at fe80::1")).toBe("ipv6:fe80::1");
    expect(spans("Note: a: fe80::1:2 then 2001:db8::7: and b:c")).toBe("ipv6:fe80::1:2|ipv6:2001:db8::7");
    expect(spans("x.fe80::1 _fe80::1 std::fe80::1 .fe80::1 ::1 fe80::1")).toBe("ipv6:fe80::1");
    expect(spans("\u65e5\u672c2001:db8::1\u3002")).toBe("ipv6:2001:db8::1");
    expect(spans("2001:db8::1.")).toBe("ipv6:2001:db8::1");
    expect(spans("1:2 3:4 5:6")).toBe("");
  });
});

describe("mixed text", () => {
  it("finds every kind in one prompt, in order", () => {
    expect(spans("I'm Jane (jane.roe@example.com, +44 20 7946 0958). Card 4111 1111 1111 1111, SSN 123-45-6789, " +
      "IBAN DE89 3704 0044 0532 0130 00, server 10.1.2.3 / 2001:db8::7."))
      .toBe("email:jane.roe@example.com|phone:+44 20 7946 0958|card:4111 1111 1111 1111|ssn:123-45-6789|" +
        "iban:DE89 3704 0044 0532 0130 00|ipv4:10.1.2.3|ipv6:2001:db8::7");
  });
  it("leaves a technical prompt alone", () => {
    expectNone(["Upgrade from 1.2.3 to 1.3.0 on 2024-01-15 at 12:30:45 UTC, commit 9fceb02d0ae598e95dc970b74767f19372d61af8, " +
      "build #123456, order ORD-2024-001234, uuid 123e4567-e89b-12d3-a456-426614174000, sha256 " +
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855, took 12.5s, cost $1,234.56."]);
  });
});
