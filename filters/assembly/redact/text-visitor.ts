// Which strings of a request or a non-streamed response are text a person or a model wrote, and
// their redaction. Rather than list where a prompt may sit (messages[].content as a string or as
// parts, system, tool-call arguments, tool_use input, tool_result content, prompt, input, …) and
// miss the next API field, every string value is scanned except those under keys that only hold
// identifiers or enum values, and inline base64 payloads (images, documents, audio), where a
// checksum-valid digit run would be noise and a rewrite would corrupt the file.
import { JsonVisitor, JsonWalker } from "./json-walk";
import { RedactPolicy, RedactState, redactText } from "../detect/redactor";
import { kindsThatMayFire } from "../detect/prefilter";

const SKIP_KEYS: Array<string> = [
  "model", "role", "type", "id", "object", "name", "tool_call_id", "tool_use_id", "finish_reason",
  "stop_reason", "system_fingerprint", "service_tier", "media_type", "detail", "format", "voice",
  "encoding_format", "response_format", "reasoning_effort", "signature", "encrypted_content",
  "data", "b64_json", "file_id", "file_data", "logprobs",
];

// Objects whose keys the caller chose (Anthropic tool_use input, request metadata): there a key
// named "name" or "id" is data, not structure, and is scanned like any other.
const FREEFORM_KEYS: Array<string> = ["input", "metadata"];

@inline function at(base: usize, i: i32): u32 { return <u32>load<u8>(base + <usize>i); }

/** Whether the JSON string at [start, end) begins with "data:" (an inline data URL). */
function isDataUrl(base: usize, start: i32, end: i32): bool {
  if (end - start < 7) return false;
  return at(base, start + 1) == 0x64 && at(base, start + 2) == 0x61 && at(base, start + 3) == 0x74 &&
    at(base, start + 4) == 0x61 && at(base, start + 5) == 0x3a;
}

function underFreeform(w: JsonWalker): bool {
  for (let d = 1; d < w.depth; d++) if (w.isObject(d) && FREEFORM_KEYS.includes(w.key(d))) return true;
  return false;
}

export class TextVisitor extends JsonVisitor {
  policy: RedactPolicy = RedactPolicy.defaults();
  state: RedactState = new RedactState();
  /** The kinds that may be found in the string wants() accepted last; the walker visits it next. */
  private possible: u32 = 0;

  /** Starts a new document (request or response) under `policy`. */
  begin(policy: RedactPolicy, state: RedactState): void {
    this.policy = policy;
    this.state = state;
  }

  wants(w: JsonWalker, base: usize, start: i32, end: i32): bool {
    if (end - start <= 2) return false; // ""
    if (SKIP_KEYS.includes(w.governingKey()) && !underFreeform(w)) return false;
    if (isDataUrl(base, start, end)) return false;
    // A string in which no detector can fire is neither decoded nor scanned (visit() would keep
    // it); on the others only the detector families that can fire run.
    this.possible = kindsThatMayFire(base + <usize>(start + 1), end - start - 2);
    return this.possible != 0;
  }

  visit(w: JsonWalker, value: string): string | null {
    const out = redactText(value, this.policy, this.state, this.possible);
    return out == value ? null : out;
  }
}
