// The browser half of benches/ui.py: times pages of a running `opsml ui` in headless
// Chromium and prints the figures as one JSON line. Arguments: the launch address, the uid
// of a run with one long metric, the uids to compare (comma-separated), the number of runs
// in the table; OPSML_CHROMIUM names the browser.

import { chromium } from "playwright-core";

const [launch, bigRun, compared, runCount] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.OPSML_CHROMIUM,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
const page = await context.newPage();
const base = new URL(launch).origin;
await page.goto(launch);

/** Milliseconds from the start of navigating to `path` until `ready` holds in the page. */
async function timeUntil(path, ready, arg) {
  await page.goto("about:blank");
  await page.goto(`${base}${path}`, { waitUntil: "commit" });
  await page.waitForFunction(ready, arg, { timeout: 120_000, polling: "raf" });
  return page.evaluate(() => performance.now());
}

async function median(times, measure) {
  const samples = [];
  for (let i = 0; i < times; i += 1) samples.push(await measure());
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const figures = {};
// The baseline: the app's page where it has no data to ask for.
figures.baseline_page_ms = await median(3, () =>
  timeUntil("/no-such-page", () => document.querySelector("main .problem") !== null),
);
figures.runs_table_render_ms = await median(3, () =>
  timeUntil(
    "/",
    (count) =>
      document.querySelector('[data-testid="run-count"]')?.textContent === `${count} runs` &&
      document.querySelectorAll('[data-testid="run-row"]').length > 0,
    runCount,
  ),
);

/** Frame times with the table left still (120 frames) or scrolled a page per frame to its
 *  end: how many frames, the 95th percentile, how many took over 1.5 frames at 60 Hz. */
function frameTimes(mode) {
  return page.evaluate(async (scrolling) => {
    const scroller = document.querySelector(".scroller");
    const frames = [];
    let last = performance.now();
    await new Promise((done) => {
      const step = (now) => {
        frames.push(now - last);
        last = now;
        if (scrolling) scroller.scrollTop += scroller.clientHeight;
        const more = scrolling
          ? scroller.scrollTop + scroller.clientHeight < scroller.scrollHeight
          : frames.length < 120;
        if (!more || frames.length > 600) done();
        else requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    });
    frames.shift();
    frames.sort((a, b) => a - b);
    const slow = frames.filter((f) => f > (1000 / 60) * 1.5).length;
    return { frames: frames.length, p95_frame_ms: frames[Math.floor(frames.length * 0.95)] ?? 0, slow_frames: slow };
  }, mode === "scroll");
}

// The baseline: the same page, left still.
figures.still = await frameTimes("still");
figures.scroll = await frameTimes("scroll");

figures.chart_1m_points_ms = await median(3, () =>
  timeUntil(`/runs/${bigRun}`, () => {
    const chart = document.querySelector('[data-testid="chart"][data-metric="loss"]');
    return chart !== null && Number(chart.getAttribute("data-points")) > 0 && chart.querySelector("canvas") !== null;
  }),
);

const uids = compared.split(",");
const query = uids.map((u) => `uid=${u}`).join("&");
figures.compare_overlay_ms = await median(3, () =>
  timeUntil(
    `/compare?${query}`,
    (n) => {
      const chart = document.querySelector('[data-testid="chart"][data-metric="loss"]');
      return chart !== null && chart.querySelector("canvas") !== null && chart.querySelectorAll(".u-legend .u-series").length > n;
    },
    uids.length,
  ),
);
figures.compared_runs = uids.length;

await browser.close();
console.log(JSON.stringify(figures));
