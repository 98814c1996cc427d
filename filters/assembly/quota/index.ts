// Entry point of quota.wasm: the ABI exports and the root context factory.
import { registerRootContext } from "../sdk/registry";
import { RootContext } from "../sdk/context";
import { QuotaRoot } from "./filter";

export * from "../sdk/exports";

function newQuotaRoot(id: u32): RootContext { return new QuotaRoot(id); }

registerRootContext("quota", newQuotaRoot);
