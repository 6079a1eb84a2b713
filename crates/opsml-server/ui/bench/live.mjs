// The live half of benches/ui.py: opens the run page of a running script that logs its own
// wall-clock time as metric `t`, and prints, as one JSON line, how many seconds each new
// point took to appear in the open chart (the script logs slower than the chart asks, so
// each new point arrives alone). Arguments: the launch address, the run's uid, the
// number of points to wait for; OPSML_CHROMIUM names the browser.

import { chromium } from "playwright-core";

const [launch, uid, count] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.OPSML_CHROMIUM,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage();
await page.goto(launch);
await page.goto(`${new URL(launch).origin}/runs/${uid}`);
const lags = await page.evaluate(
  (wanted) =>
    new Promise((done) => {
      const lags = [];
      let seen = 0;
      const look = () => {
        const chart = document.querySelector('[data-testid="chart"][data-metric="t"]');
        const points = Number(chart?.getAttribute("data-points") ?? 0);
        const last = Number(chart?.getAttribute("data-last") ?? NaN);
        if (points > seen && seen > 0 && Number.isFinite(last)) lags.push(Date.now() / 1000 - last);
        seen = Math.max(seen, points);
        if (seen >= wanted) done(lags);
        else requestAnimationFrame(look);
      };
      look();
    }),
  Number(count) + 1,
);
await browser.close();
console.log(JSON.stringify(lags));
