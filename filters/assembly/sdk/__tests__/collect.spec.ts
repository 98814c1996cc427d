import { COLLECT_EVERY, collections, enterExport, leaveExport } from "../collect";

describe("garbage collection at the outermost export's return", () => {
  it("collects once every COLLECT_EVERY outermost calls", () => {
    const before = collections();
    for (let i: u32 = 0; i < COLLECT_EVERY - 1; i++) {
      enterExport();
      leaveExport();
    }
    expect(collections()).toBe(before, "not yet");
    enterExport();
    leaveExport();
    expect(collections()).toBe(before + 1);
  });

  it("never collects when a nested call returns, and counts only outermost calls", () => {
    const before = collections();
    enterExport();
    for (let i: u32 = 0; i < COLLECT_EVERY * 2; i++) {
      // The host calls back into the module while the outer call is on the stack.
      enterExport();
      leaveExport();
    }
    expect(collections()).toBe(before, "nested returns never collect");
    leaveExport();
    expect(collections()).toBe(before, "one outermost call counted, not 2 × COLLECT_EVERY + 1");
  });
});
