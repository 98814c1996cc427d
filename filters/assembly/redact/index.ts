// Entry point of redact.wasm: the ABI exports and the root context factory.
import { registerRootContext } from "../sdk/registry";
import { RootContext } from "../sdk/context";
import { RedactRoot } from "./filter";

export * from "../sdk/exports";
// Reads response bodies: Envoy calls it for every response chunk.
export * from "../sdk/exports-response-body";

function newRedactRoot(id: u32): RootContext { return new RedactRoot(id); }

registerRootContext("redact", newRedactRoot);
