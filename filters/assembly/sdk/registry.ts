// Context bookkeeping: root context factories by root id, and the live root and stream contexts
// by the ids the host gave them. Kept apart from exports.ts so that file holds only ABI exports.
import { RootContext, HttpContext } from "./context";
import { getPropertyString, logError } from "./host";

export type RootFactory = (id: u32) => RootContext;

const factories = new Map<string, RootFactory>();
let onlyFactory: RootFactory | null = null;
const roots = new Map<u32, RootContext>();
const streams = new Map<u32, HttpContext>();

/**
 * Registers the factory for root id `rootId` (PluginConfig.root_id in Envoy). A module with a
 * single root context may be configured with any root id, including none.
 */
export function registerRootContext(rootId: string, factory: RootFactory): void {
  factories.set(rootId, factory);
  onlyFactory = factories.size == 1 ? factory : null;
}

/** The factory registered for `rootId`, or null (a module chain builds its modules' roots with it). */
export function rootFactory(rootId: string): RootFactory | null {
  return factories.has(rootId) ? factories.get(rootId) : null;
}

export function newRoot(id: u32): RootContext {
  let factory = onlyFactory;
  if (factory == null) {
    const rootId = getPropertyString(["plugin_root_id"]);
    factory = rootFactory(rootId == null ? "" : rootId);
  }
  // No factory for this root id: a root that rejects its configuration, so Envoy refuses the
  // plugin instead of running a filter that checks nothing (fail closed).
  const root = factory == null ? new UnknownRoot(id) : factory(id);
  roots.set(id, root);
  return root;
}

export function rootOf(id: u32): RootContext | null {
  return roots.has(id) ? roots.get(id) : null;
}

export function streamOf(id: u32): HttpContext | null {
  return streams.has(id) ? streams.get(id) : null;
}

class UnknownRoot extends RootContext {
  onConfigure(configuration: string): bool {
    logError("leash sdk: no root context registered for this plugin's root_id");
    return false;
  }
}

export function addStream(s: HttpContext): void { streams.set(s.id, s); }
export function removeStream(id: u32): void { streams.delete(id); }
export function removeRoot(id: u32): void { roots.delete(id); }
