// Entry point of auth.wasm: the ABI exports and the root context factory.
import { registerRootContext } from "../sdk/registry";
import { RootContext } from "../sdk/context";
import { AuthRoot } from "./filter";

export * from "../sdk/exports";

function newAuthRoot(id: u32): RootContext { return new AuthRoot(id); }

registerRootContext("auth", newAuthRoot);
