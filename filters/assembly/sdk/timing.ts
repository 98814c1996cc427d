// Per-module processing time of a request (leash_module_processing_duration_seconds).
//
// A module opts in with one line in its root context, `enableTiming(this, "<module>")`. From then
// on the SDK's entry points (exports.ts) time every callback of the module's streams (headers,
// bodies, call replies, log, done) and, once the module's access-log callback (proxy_on_log) has
// run, publish the stream's total as filter state `leash.timing.<module>` = whole microseconds:
// one write per module per request. Only time spent inside our callbacks counts: waiting for the
// sidecar or the provider does not (the stream is paused then, and the sidecar's own time is
// leash_sidecar_grpc_duration_seconds).
//
// The usage module, last in the chain, reads every known module's total in its own onLog
// (readModuleTimings) and reports them with its UsageReport. Filter state is per request and
// visible to every filter of the chain, which is why it carries the totals: wasm VMs of different
// modules share no memory. Envoy runs the filters' access-log handlers in filter-chain order (the
// e2e test test/e2e/usage.test.ts checks that the usage module sees auth's total through real
// Envoy), so every earlier module has published by then, its own onLog included. Publishing after
// every callback instead cost ~24 filter-state writes per request across the chain (~1.3 µs
// each in Envoy) for the same figures. What runs after the log pass (proxy_on_done) is measured
// but reaches no report, as before.
//
// Work done inside one stream's callback on behalf of others counts for that stream: the auth
// module's single-flight leader settles its waiting followers inside its own reply callback.
//
// The clock is proxy_get_current_time_nanoseconds: Envoy reads the system clock (nanosecond
// resolution, not the dispatcher's cached time), so a callback of a few microseconds is measured.
// Two reads per callback (its start and its end); in a module chain (chain.ts) one module's end is
// the next one's start, so N modules in one callback take N + 1 reads, and a module that does not
// implement the callback (the SDK's default ran) takes none: it hands its start to the next. It is a wall clock and may
// step backwards (NTP): a negative interval counts as zero.
import { HttpContext, RootContext } from "./context";
import { getPropertyString, nowNanos, setProperty } from "./host";

/** Filter state name prefix of the published totals. */
export const TIMING_PREFIX: string = "leash.timing.";

/**
 * Modules whose totals the usage module collects, in chain order. A module that opts in to timing
 * adds its name here (its second line); absent properties (module disabled) are skipped.
 */
export const TIMED_MODULES: Array<string> = ["auth", "redact", "injection", "quota"];

/**
 * Turns on callback timing for every stream of `root`, published as leash.timing.<module>.
 * `publish` false: measure only (the usage module reads its own total directly and needs no filter
 * state write per response chunk).
 */
export function enableTiming(root: RootContext, module: string, publish: bool = true): void {
  root.timingModule = module;
  root.timingProperty = TIMING_PREFIX + module;
  root.timingPublish = publish;
}

/**
 * Called by the SDK entry points before a stream callback. `nowNs`: a clock reading taken a moment
 * ago that may stand for the start (the module chain passes the end of the module that ran just
 * before); 0 reads the clock.
 */
export function beginCallback(s: HttpContext, nowNs: u64 = 0): void {
  if (s.root.timingProperty.length == 0) return;
  s.callbackStartNs = nowNs != 0 ? nowNs : nowNanos();
}

/**
 * Called by the SDK entry points after a stream callback: adds its time to the stream's total.
 * Returns the clock reading it took (0 when the stream is not timed), which the next callback of a
 * module chain starts from instead of reading the clock again.
 */
export function endCallback(s: HttpContext): u64 {
  if (s.root.timingProperty.length == 0 || s.callbackStartNs == 0) return 0;
  const now = nowNanos();
  s.spentNs += between(s.callbackStartNs, now);
  s.callbackStartNs = 0;
  return now;
}

/**
 * Instead of endCallback, for a callback the module does not implement (HttpContext.unhandled):
 * counts nothing and reads no clock. Returns the callback's start, which the next module of a chain
 * starts from (0 when the stream is not timed).
 */
export function skipCallback(s: HttpContext): u64 {
  const start = s.callbackStartNs;
  s.callbackStartNs = 0;
  return start;
}

/**
 * Called by proxy_on_log after the module's onLog (and its endCallback): publishes the stream's
 * total once, for the usage module's onLog that runs after it and for access logs.
 */
export function publishTiming(s: HttpContext): void {
  if (s.root.timingProperty.length == 0 || !s.root.timingPublish) return;
  // Envoy calls on_log once per stream; a second call would only repeat the same write.
  if (s.publishedMicros != U64.MAX_VALUE) return;
  const micros = s.spentNs / 1000;
  s.publishedMicros = micros;
  setProperty(s.root.timingProperty, micros.toString());
}

/**
 * The clock at the start of the running callback, in ms, when the stream is timed: the reading
 * beginCallback took anyway, so a module that stamps requests (the usage module's start, first
 * byte and duration) reads the host clock no more often than timing does. Untimed: a fresh read.
 */
export function callbackStartMillis(s: HttpContext): u64 {
  return s.callbackStartNs != 0 ? s.callbackStartNs / 1_000_000 : nowNanos() / 1_000_000;
}

/** The stream's total so far in microseconds, including the callback that is running now. */
export function spentMicros(s: HttpContext): u64 {
  let ns = s.spentNs;
  if (s.callbackStartNs != 0) ns += elapsedSince(s.callbackStartNs);
  return ns / 1000;
}

function elapsedSince(startNs: u64): u64 {
  return between(startNs, nowNanos());
}

/** From `startNs` to `nowNs`; 0 if the clock stepped back. */
function between(startNs: u64, nowNs: u64): u64 {
  return nowNs > startNs ? nowNs - startNs : 0;
}

/** One module's processing time of one request. */
export class ModuleTime {
  constructor(public module: string, public micros: u64) {}
}

/** The published totals of `modules` on the current stream; modules that published none are left out. */
export function readModuleTimings(modules: Array<string>): Array<ModuleTime> {
  const out = new Array<ModuleTime>(0);
  for (let i = 0; i < modules.length; i++) {
    const v = getPropertyString([TIMING_PREFIX + modules[i]]);
    if (v == null || !isDigits(v)) continue;
    out.push(new ModuleTime(modules[i], U64.parseInt(v)));
  }
  return out;
}

/** 1..15 ASCII digits: filter state is writable by any filter, so a bad value is skipped, not parsed. */
function isDigits(v: string): bool {
  if (v.length == 0 || v.length > 15) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
