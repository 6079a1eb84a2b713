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

/** Frame times with the table left still (120 frames), scrolled a page per frame to its
 *  end ("page"), or scrolled 120 pixels (a wheel notch) per frame for 300 frames ("wheel"):
 *  how many frames, the 95th percentile, how many took over 1.5 frames at 60 Hz. */
function frameTimes(mode) {
  return page.evaluate(async (mode) => {
    const scroller = document.querySelector(".scroller");
    scroller.scrollTop = 0;
    const frames = [];
    let last = performance.now();
    await new Promise((done) => {
      const step = (now) => {
        frames.push(now - last);
        last = now;
        if (mode === "page") scroller.scrollTop += scroller.clientHeight;
        if (mode === "wheel") scroller.scrollTop += 120;
        const end = scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight;
        const more = mode === "page" ? !end : frames.length < (mode === "wheel" ? 300 : 120) && !end;
        if (!more || frames.length > 600) done();
        else requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    });
    frames.shift();
    frames.sort((a, b) => a - b);
    const slow = frames.filter((f) => f > (1000 / 60) * 1.5).length;
    return { frames: frames.length, p95_frame_ms: frames[Math.floor(frames.length * 0.95)] ?? 0, slow_frames: slow };
  }, mode);
}

// The baselines: the same page left still, and a plain page of the same rows and cells,
// all laid out beforehand, scrolled the same way (what the browser itself needs to paint a
// new page of text every frame).
figures.still = await frameTimes("still");
figures.scroll_wheel = await frameTimes("wheel");
figures.scroll_page = await frameTimes("page");
const cells = await page.evaluate(() => document.querySelectorAll(".body .row")[0]?.children.length ?? 20);
// Away from the app, whose Content-Security-Policy refuses inline styles.
await page.goto("about:blank");
await page.setContent(
  `<div class="scroller" style="height:${900 - 140}px;overflow:auto;font:14px system-ui">` +
    Array.from(
      { length: Math.min(Number(runCount), 2000) },
      (_, r) =>
        `<div style="display:flex;height:32px;border-bottom:1px solid #e5e7eb">` +
        Array.from({ length: cells }, (_, c) => `<span style="flex:none;width:120px;padding:0 8px;line-height:32px;overflow:hidden;white-space:nowrap">${(r * 7919 + c * 104729) % 1000003}.${c}</span>`).join("") +
        `</div>`,
    ).join("") +
    `</div>`,
);
figures.plain_scroll_wheel = await frameTimes("wheel");
figures.plain_scroll_page = await frameTimes("page");

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
