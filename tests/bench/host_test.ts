import assert from "node:assert/strict";
import { type CpuTicks, parseProcStat, renderSteal, StealSampler } from "../../bench/host.ts";

const PROC_STAT = `cpu  2871292 0 689582 8334331 5737 0 338950 51698 0 0
cpu0 1435646 0 344791 4167165 2868 0 169475 25849 0 0
intr 123
`;

Deno.test("parseProcStat reads steal and the total of the aggregate cpu line", () => {
  assert.deepEqual(parseProcStat(PROC_STAT), {
    steal: 51698,
    total: 2871292 + 0 + 689582 + 8334331 + 5737 + 0 + 338950 + 51698,
  });
  assert.equal(parseProcStat("intr 1 2 3\n"), null);
  assert.equal(parseProcStat("cpu  1 2 3\n"), null);
});

Deno.test("the sampler reports a section's stolen share and its worst interval", () => {
  const ticks: CpuTicks[] = [
    { steal: 0, total: 0 },
    { steal: 1, total: 20 }, // 5%
    { steal: 5, total: 40 }, // 20%: the worst interval
    { steal: 5, total: 60 }, // none
    { steal: 6, total: 80 }, // 5%
  ];
  let i = 0;
  let clock = 0;
  const sampler = new StealSampler({ sampleMs: 100, read: () => ticks[i++]!, now: () => clock });
  for (let n = 0; n < ticks.length; n++) {
    sampler.sample();
    clock += 100;
  }
  assert.deepEqual(sampler.between(0, 400), { percent: 7.5, worst_percent: 20, sample_ms: 100 });
  // A stretch only sums the samples inside it.
  assert.deepEqual(sampler.between(200, 400), { percent: 2.5, worst_percent: 5, sample_ms: 100 });
  assert.equal(sampler.between(350, 400), null);
  assert.match(renderSteal(sampler.between(0, 400)), /CPU steal 7\.5% .*worst 100 ms: 20%/);
});

Deno.test("without /proc/stat every summary is null and says so", () => {
  const sampler = new StealSampler({ read: () => null });
  sampler.sample();
  sampler.sample();
  assert.equal(sampler.between(0, Infinity), null);
  assert.equal(renderSteal(null), "host: CPU steal n/a (no /proc/stat)");
});
