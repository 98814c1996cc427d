// Entry point of injection.wasm: the ABI exports and the root context factory.
import { registerRootContext } from "../sdk/registry";
import { RootContext } from "../sdk/context";
import { InjectionRoot } from "./filter";

export * from "../sdk/exports";

function newInjectionRoot(id: u32): RootContext { return new InjectionRoot(id); }

registerRootContext("injection", newInjectionRoot);
