// Entry point of usage.wasm: the ABI exports and the root context factory.
import { registerRootContext } from "../sdk/registry";
import { RootContext } from "../sdk/context";
import { UsageRoot } from "./filter";

export * from "../sdk/exports";
// Reads response bodies: Envoy calls it for every response chunk.
export * from "../sdk/exports-response-body";

function newUsageRoot(id: u32): RootContext { return new UsageRoot(id); }

registerRootContext("usage", newUsageRoot);
