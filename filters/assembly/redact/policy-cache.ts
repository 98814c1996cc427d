// Per-VM cache of parsed tenant policies: a policy string is parsed once, then every request of
// that tenant reuses the settings. Bounded: tenants with distinct policies beyond the bound start
// the cache over (cheap: a parse is microseconds), so a flood of tenants cannot grow memory.
import { RedactSettings, settingsForPolicy } from "./config";

const MAX_ENTRIES: i32 = 256;

export class PolicyCache {
  private entries: Map<string, RedactSettings> = new Map<string, RedactSettings>();
  /** Policy strings that did not parse: remembered so a bad one is not reparsed on every request. */
  private invalid: Set<string> = new Set<string>();

  clear(): void { this.entries.clear(); this.invalid.clear(); }

  /** The settings for `policyJson` over `defaults`, or null when the policy is invalid. */
  get(defaults: RedactSettings, policyJson: string): RedactSettings | null {
    if (this.entries.has(policyJson)) return this.entries.get(policyJson);
    if (this.invalid.has(policyJson)) return null;
    if (this.entries.size + this.invalid.size >= MAX_ENTRIES) this.clear();
    const s = settingsForPolicy(defaults, policyJson);
    if (s == null) this.invalid.add(policyJson);
    else this.entries.set(policyJson, s);
    return s;
  }
}
