import assert from "node:assert/strict";
import { Shedder } from "../../lib/store/shed.ts";

Deno.test("admitsAll(n) holds exactly when n points in a row would each be admitted", () => {
  for (const start of [0, 40, 47, 49, 50, 60]) {
    for (const n of [1, 2, 3, 10]) {
      const bulk = new Shedder(100);
      const one = new Shedder(100);
      const [a, b] = [bulk.of("flood"), one.of("flood")];
      bulk.add(a, start);
      one.add(b, start);
      let admitted = 0;
      for (let i = 0; i < n; i++) {
        if (one.admit(b)) {
          one.add(b, 1);
          admitted++;
        }
      }
      const all = bulk.admitsAll(n);
      // Only up to the line, which is half the bound.
      assert.equal(all, start + n <= 50, `start ${start}, n ${n}`);
      if (all) {
        assert.equal(admitted, n, `start ${start}, n ${n}`);
        bulk.add(a, n);
        assert.equal(bulk.total, one.total);
        assert.equal(bulk.dropped, 0);
      }
    }
  }
});
