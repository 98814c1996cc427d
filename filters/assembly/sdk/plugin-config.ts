// Reading a module's plugin configuration JSON: the checks every module repeats (a number in a
// range, a non-empty string, one of two words), each answering a fallback and remembering the
// first problem instead of throwing, so a parser reads fields in a row and checks `error` once.
import { JsonValue, parseJson } from "./json";

export class ConfigReader {
  /** The first problem found ("" while none), phrased for the operator's log line. */
  error: string = "";

  constructor(public root: JsonValue) {}

  /** Parses `text`; a reader whose `error` is set when it is empty or not a JSON object. */
  static open(text: string): ConfigReader {
    if (text.trim().length == 0) return ConfigReader.failed("configuration is empty");
    const parsed = parseJson(text);
    if (parsed.value == null || !parsed.value!.isObject()) {
      return ConfigReader.failed("configuration must be a JSON object: " + parsed.error);
    }
    return new ConfigReader(parsed.value!);
  }

  private static failed(error: string): ConfigReader {
    const r = new ConfigReader(new JsonValue());
    r.error = error;
    return r;
  }

  get ok(): bool { return this.error.length == 0; }

  fail(message: string): void {
    if (this.error.length == 0) this.error = message;
  }

  /** Member `name` as a number in [min, max]; `fallback` when absent or bad. */
  number(name: string, min: i64, max: i64, fallback: f64): f64 {
    const v = this.root.get(name);
    if (v == null) return fallback;
    if (!v.isNumber() || v.n < <f64>min || v.n > <f64>max) {
      this.fail(name + " must be a number from " + min.toString() + " to " + max.toString());
      return fallback;
    }
    return v.n;
  }

  /** Member `name` as a non-empty string; `fallback` when absent or bad. */
  nonEmptyString(name: string, fallback: string): string {
    const v = this.root.get(name);
    if (v == null) return fallback;
    if (!v.isString() || v.s.length == 0) {
      this.fail(name + " must be a non-empty string");
      return fallback;
    }
    return v.s;
  }

  /** failure_mode: true for "open"; false when absent ("closed" is the default) or bad. */
  failOpen(): bool {
    const v = this.root.get("failure_mode");
    if (v == null) return false;
    if (!v.isString() || (v.s != "closed" && v.s != "open")) {
      this.fail("failure_mode must be \"closed\" or \"open\"");
      return false;
    }
    return v.s == "open";
  }
}
