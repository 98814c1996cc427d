// The redact module's plugin configuration (written by envoy/wasm-filters.ts, shape in README.md)
// and the per-tenant overrides it merges per request (filter state `leash.policy`, set by the auth
// module from AuthorizeResponse.module_policy). Both are parsed once: the plugin JSON per
// configure, each distinct policy string once per VM (policy-cache.ts).
import { parseJson, JsonValue, JsonKind } from "../sdk/json";
import { Route, parseRoutes } from "../sdk/routes";
import { ENTITY_KINDS, entityKindOf } from "../detect/finding";
import { Action, RedactPolicy } from "../detect/redactor";

export const EXPECTED_SHAPE = "{\"module\":\"redact\",\"failure_mode\":\"closed|open\",\"max_body_bytes\":4194304," +
  "\"routes\":[{\"prefix\":\"/openai\",\"provider\":\"openai\",\"api\":\"openai|anthropic\"}]," +
  "\"settings\":{\"entities\":{\"email\":\"mask|hash|block|allow\",…},\"responses\":true,\"stream_holdback_chars\":4096}}";

/** What one request is redacted with: entity actions, whether responses are redacted, the stream bound. */
export class RedactSettings {
  /** The configured action per kind (Action values); policy and responsePolicy derive from it. */
  actions: StaticArray<u8> = RedactPolicy.defaults().actions;
  /** What requests are redacted with. */
  policy: RedactPolicy = RedactPolicy.defaults();
  /** The same actions with Block applied as Mask: a response cannot be refused once it has started. */
  responsePolicy: RedactPolicy = RedactPolicy.defaults();
  responses: bool = true;
  holdbackChars: i32 = 4096;
  /** A tenant policy may turn the module off for that tenant ({"redact":{"enabled":false}}). */
  enabled: bool = true;
  /**
   * Key of the hash action (the tenant's, from the sidecar: leash.policy redact.hash_key). Without
   * one, hash applies as mask: an unkeyed hash would let anyone confirm a guessed value.
   */
  hashKey: string = "";

  copy(): RedactSettings {
    const s = new RedactSettings();
    s.enabled = this.enabled;
    s.hashKey = this.hashKey;
    for (let k = 0; k < ENTITY_KINDS; k++) s.actions[k] = this.actions[k];
    s.responses = this.responses;
    s.holdbackChars = this.holdbackChars;
    s.derive();
    return s;
  }

  /** Recomputes responsePolicy from policy, and both policies' hash keys. */
  derive(): void {
    const keyed = this.hashKey.length > 0;
    for (let k = 0; k < ENTITY_KINDS; k++) {
      let a = this.actions[k];
      if (a == <u8>Action.Hash && !keyed) a = <u8>Action.Mask;
      this.policy.actions[k] = a;
      this.responsePolicy.actions[k] = a == <u8>Action.Block ? <u8>Action.Mask : a;
    }
    this.policy.setSalt(this.hashKey);
    this.responsePolicy.setSalt(this.hashKey);
  }
}

export class RedactConfig {
  maxBodyBytes: u32 = 4 * 1024 * 1024;
  /** Deepest JSON nesting accepted in a request body (deeper: 400 gateway.invalid_json). */
  maxJsonDepth: i32 = 128;
  routes: Array<Route> = new Array<Route>(0);
  defaults: RedactSettings = new RedactSettings();
}

export class ConfigResult {
  constructor(public config: RedactConfig | null, public error: string) {}
}

function fail(msg: string): ConfigResult { return new ConfigResult(null, msg); }

export function actionOf(name: string): i32 {
  if (name == "allow") return <i32>Action.Allow;
  if (name == "mask") return <i32>Action.Mask;
  if (name == "hash") return <i32>Action.Hash;
  if (name == "block") return <i32>Action.Block;
  return -1;
}

/**
 * Applies a `{"entities":{…},"responses":bool,"stream_holdback_chars":n}` object onto `s`;
 * returns "" or what is wrong. Entities not listed keep their action.
 */
export function applySettings(v: JsonValue, s: RedactSettings, fromPlugin: bool): string {
  if (!v.isObject()) return "must be an object";
  const entities = v.get("entities");
  if (entities != null) {
    if (!entities.isObject()) return "entities must be an object of entity: action";
    for (let i = 0; i < entities.keys.length; i++) {
      const kind = entityKindOf(entities.keys[i]);
      if (kind < 0) return "entities: unknown entity " + entities.keys[i];
      const a = entities.values[i];
      const action = a.isString() ? actionOf(a.s) : -1;
      if (action < 0) return "entities." + entities.keys[i] + " must be mask, hash, block or allow";
      s.actions[kind] = <u8>action;
    }
  }
  const r = v.get("responses");
  if (r != null) {
    if (r.kind != JsonKind.Bool) return "responses must be true or false";
    s.responses = r.b;
  }
  if (!fromPlugin) {
    // The plugin's own switch is whether the filter is in the chain at all; a tenant can opt out.
    const e = v.get("enabled");
    if (e != null) {
      if (e.kind != JsonKind.Bool) return "enabled must be true or false";
      s.enabled = e.b;
    }
    const k = v.get("hash_key");
    if (k != null) {
      if (!k.isString() || k.s.length < 16 || k.s.length > 256) return "hash_key must be a string of 16 to 256 characters";
      s.hashKey = k.s;
    }
  }
  if (fromPlugin) {
    const h = v.get("stream_holdback_chars");
    if (h != null) {
      if (!h.isNumber() || h.n < 64 || h.n > 65536) return "stream_holdback_chars must be a number from 64 to 65536";
      s.holdbackChars = <i32>h.n;
    }
  }
  s.derive();
  return "";
}

export function parseRedactConfig(text: string): ConfigResult {
  if (text.trim().length == 0) return fail("configuration is empty");
  const parsed = parseJson(text);
  if (parsed.value == null || !parsed.value!.isObject()) return fail("configuration must be a JSON object: " + parsed.error);
  const root = parsed.value!;
  const cfg = new RedactConfig();
  const m = root.get("max_body_bytes");
  if (m != null) {
    if (!m.isNumber() || m.n < 1024 || m.n > 67108864) return fail("max_body_bytes must be a number from 1024 to 67108864");
    cfg.maxBodyBytes = <u32>m.n;
  }
  const d = root.get("max_json_depth");
  if (d != null) {
    if (!d.isNumber() || d.n < 2 || d.n > 512) return fail("max_json_depth must be a number from 2 to 512");
    cfg.maxJsonDepth = <i32>d.n;
  }
  const routes = parseRoutes(root.get("routes"));
  if (routes.error.length > 0) return fail(routes.error);
  cfg.routes = routes.routes;
  const settings = root.get("settings");
  if (settings != null) {
    const err = applySettings(settings, cfg.defaults, true);
    if (err.length > 0) return fail("settings: " + err);
  }
  return new ConfigResult(cfg, "");
}

/**
 * The settings of one request: the plugin defaults with the tenant policy's `redact` section
 * applied, or null when the policy does not parse (the caller refuses: fail closed).
 */
export function settingsForPolicy(defaults: RedactSettings, policyJson: string): RedactSettings | null {
  const parsed = parseJson(policyJson);
  if (parsed.value == null || !parsed.value!.isObject()) return null;
  const s = defaults.copy();
  const section = parsed.value!.get("redact");
  if (section == null) return s;
  return applySettings(section, s, false).length == 0 ? s : null;
}
