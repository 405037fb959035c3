// The user guides' screenshots (run by tests/integration/test_guide_screenshots.py): each shot opens
// a person's link first where it has one (signing her in), then the page, at the shot's width, and
// saves what a person sees on opening it (the first screen) into the manual's screenshots folder.
// Prints, per shot, what the test checks: the status, <html lang>, the width the page takes, and its
// first heading.
// Usage: node guide.mjs BASE OUT_DIR SHOTS_JSON
import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";

const [base, out, shotsJson] = process.argv.slice(2);
const shots = JSON.parse(shotsJson);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const seen = [];
try {
  for (const shot of shots) {
    const phone = shot.width < 600;
    const context = await browser.newContext({
      viewport: { width: shot.width, height: phone ? 844 : 800 }, isMobile: phone, hasTouch: phone,
      deviceScaleFactor: phone ? 2 : 1, locale: shot.browserLocale || "en-US" });
    const page = await context.newPage();
    let response = shot.link ? await page.goto(shot.link) : null;
    // Without a path of its own, the shot is where the link lands (an email's link: her deadlines).
    if (shot.file || shot.path) response = await page.goto(shot.file ? pathToFileURL(shot.file).href : base + shot.path);
    await page.screenshot({ path: `${out}/${shot.name}.png`, fullPage: false });
    seen.push({
      name: shot.name,
      status: shot.file ? 200 : response.status(),
      path: shot.file ? null : new URL(page.url()).pathname,
      ...(await page.evaluate(() => ({
        htmlLang: document.documentElement.lang,
        scrollWidth: document.documentElement.scrollWidth,
        heading: (document.querySelector("h1") || document.querySelector("h2") || { textContent: "" }).textContent.trim(),
        text: document.body.innerText,
      }))),
    });
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
